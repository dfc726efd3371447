/**
 * The browser command's analysis and verdicts, from literal DevTools records (the figures of a real run with
 * Chromium 156 against 2 workers): the verdicts must follow the data, including data that disagrees with the
 * usual story.
 */
import { describe, expect, it } from 'vitest';
import { isSerialized, overlapsPrevious, requestsPerPid, summarizeScenario, toBrowserRequests, waitedForConnection, type BrowserRequest } from '../src/browser/analyze.js';
import type { RawBrowserRequest } from '../src/browser/driver.js';
import { browserConclusion, scenarioVerdict } from '../src/browser/verdict.js';
import { measuredMeetRows } from '../src/report/browser-report.js';

const URL_A = 'http://127.0.0.1:4000/api/600000000';

/** created/sent/ended in ms after an origin of 100 s (DevTools timestamps are seconds). */
function raw(url: string, createdMs: number, sentMs: number | null, endedMs: number | null, connectionId: number | null, reused: boolean, pid: number | null, status: number | null = 200, error: string | null = null, protocol: string | null = 'http/1.1', host: string | null = null): RawBrowserRequest {
  const s = (ms: number | null) => (ms === null ? null : 100 + ms / 1000);
  // The headers arrive 3 ms before loadingFinished, as measured for this route.
  return { url, createdS: s(createdMs)!, sentS: s(sentMs), respondedS: s(endedMs === null ? null : endedMs - 3), endedS: s(endedMs), status, connectionId, connectionReused: reused, protocol: status === null ? null : protocol, pid, host, primaryPid: null, error };
}

function request(index: number, startedMs: number | null, endedMs: number | null, connectionId: number | null, pid: number | null, queuedMs = 0): BrowserRequest {
  return { index, url: `${URL_A}?i=${index}`, pid, status: 200, connectionId, connectionReused: index > 1, protocol: 'http/1.1', host: null, primaryPid: null, queuedMs, startedMs, respondedMs: endedMs === null ? null : endedMs - 3, endedMs, error: null };
}

// 4 tabs on one URL: sent one after another on connection 65 (Chromium's cache lock), all to PID 761.
const sameUrlRaw = [
  raw(URL_A, 0, 10.2, 1010, 65, true, 761),
  raw(URL_A, 12, 1007, 1780, 65, true, 761),
  raw(URL_A, 27, 1777, 2500, 65, true, 761),
  raw(URL_A, 41, 2498, 3220, 65, true, 761),
];
const sameUrl = summarizeScenario('same-url', toBrowserRequests(Array(4).fill(URL_A), sameUrlRaw));

const distinctUrls = summarizeScenario(
  'distinct-urls',
  toBrowserRequests(
    [1, 2, 3, 4].map((i) => `${URL_A}?tab=${i}`),
    [raw(`${URL_A}?tab=1`, 0, 5.5, 1490, 132, true, 761), raw(`${URL_A}?tab=2`, 10.3, 18.3, 1380, 144, false, 762), raw(`${URL_A}?tab=3`, 17.8, 23.2, 2330, 152, false, 761), raw(`${URL_A}?tab=4`, 26.3, 33.7, 2290, 160, false, 762)],
  ),
);

// 8 fetches over Chromium's 6 connections per host: fetches 7 and 8 wait for 170 and 184 to be free.
const fetchUrls = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `${URL_A}?fetch=${i}`);
const conns = [170, 184, 190, 196, 202, 208, 170, 184];
const fetchBurst = summarizeScenario(
  'fetch-burst',
  toBrowserRequests(
    fetchUrls,
    fetchUrls.map((u, i) => (i < 6 ? raw(u, i, 7 + i, 1400 + i * 100, conns[i]!, i === 0, i % 2 ? 761 : 762) : raw(u, i, 1401 + (i - 6) * 100, 2100 + i, conns[i]!, true, i % 2 ? 761 : 762))),
  ),
);

describe('toBrowserRequests', () => {
  it('puts every time on the clock of the first request asked for, in ms, and takes queued = sent − asked', () => {
    expect(sameUrl.requests[1]).toEqual({ index: 2, url: URL_A, pid: 761, status: 200, connectionId: 65, connectionReused: true, protocol: 'http/1.1', host: null, primaryPid: null, queuedMs: 995, startedMs: 1007, respondedMs: 1777, endedMs: 1780, error: null });
    expect(sameUrl.requests.map((r) => r.queuedMs)).toEqual([10.2, 995, 1750, 2457]);
  });

  it('marks a request the browser never made, one that failed and an HTTP error', () => {
    const requests = toBrowserRequests(
      ['http://h/a', 'http://h/b', 'http://h/c'],
      [undefined, raw('http://h/b', 0, 1, 5, 3, false, null, null, 'net::ERR_CONNECTION_RESET'), raw('http://h/c', 1, 2, 9, 3, true, 41, 500)],
    );
    expect(requests.map((r) => r.error)).toEqual(['never requested by the browser', 'net::ERR_CONNECTION_RESET', 'HTTP 500']);
    expect(requests[0]).toMatchObject({ index: 1, queuedMs: null, startedMs: null, endedMs: null });
  });
});

describe('isSerialized', () => {
  it("is true only when each request was sent after the previous one's headers arrived (5 ms of skew tolerated)", () => {
    // request 1's headers arrive at 997 ms.
    expect(isSerialized([request(1, 10, 1000, 65, 1), request(2, 993, 1800, 65, 1)])).toBe(true);
    expect(isSerialized([request(1, 10, 1000, 65, 1), request(2, 990, 1800, 65, 1)])).toBe(false);
    expect(isSerialized([request(2, 1001, 1800, 65, 1), request(1, 10, 1000, 65, 1)])).toBe(true);
  });

  it('HTTP/2 tabs that overlap are not "one after another", though tab 2 went out once tab 1\'s headers were in', () => {
    // A real run's figures: tab 1 sent at 10 ms, its headers at 925 ms, ended at 1.55 s; tab 2 sent at 931 ms.
    const h2 = (index: number, sent: number, headers: number, ended: number): BrowserRequest => ({ ...request(index, sent, ended, 7, 761), protocol: 'h2', respondedMs: headers });
    const tabs = [h2(1, 10, 925, 1550), h2(2, 931, 1800, 2420)];
    expect(isSerialized(tabs)).toBe(true);
    expect(overlapsPrevious(tabs)).toBe(true);
    const verdict = scenarioVerdict(summarizeScenario('same-url', tabs), 2, undefined);
    expect(verdict).not.toContain('one after another');
    expect(verdict).toContain("each sent once the previous response's headers were in, while its body was still coming (tab 2 queued");
    // The recorded HTTP/1.1 run: sent within a few ms of the previous end, as printed: one after another.
    expect(overlapsPrevious(sameUrl.requests)).toBe(false);
    expect(scenarioVerdict(sameUrl, 2, distinctUrls)).toContain('served one after another');
  });

  it('is false for a single request, and when a request was never sent', () => {
    expect(isSerialized([request(1, 10, 1000, 65, 1)])).toBe(false);
    expect(isSerialized([request(1, 10, 1000, 65, 1), request(2, null, null, null, null)])).toBe(false);
  });
});

describe('summarizeScenario', () => {
  it('counts distinct PIDs and connections (in order of first use) and the duration', () => {
    expect(sameUrl).toMatchObject({ pids: [761], connections: [65], serialized: true, failed: 0, durationMs: 3220 });
    expect(distinctUrls).toMatchObject({ pids: [761, 762], connections: [132, 144, 152, 160], serialized: false });
    expect(fetchBurst.connections).toEqual([170, 184, 190, 196, 202, 208]);
  });

  it('finds the requests that waited for a busy connection, and the requests per PID', () => {
    expect(waitedForConnection(fetchBurst.requests).map((r) => r.index)).toEqual([7, 8]);
    expect(waitedForConnection(distinctUrls.requests)).toEqual([]);
    expect(requestsPerPid(fetchBurst.requests)).toEqual([
      { pid: 761, requests: 4 },
      { pid: 762, requests: 4 },
    ]);
  });
});

describe('scenarioVerdict', () => {
  it('same URL, served one after another on one connection: names the cache lock, with the distinct-URL evidence', () => {
    expect(scenarioVerdict(sameUrl, 2, distinctUrls)).toBe(
      '4 tabs, same URL: served one after another (tab 2 queued 995 ms, tab 3 queued 1.75 s, tab 4 queued 2.46 s), all 4 on connection 65 → 1 PID of 2 workers. ' +
        'Chromium sends one request per URL at a time (its HTTP cache lock; the same tabs with distinct URLs went out at once): the others wait for the first response. ' +
        'Each then reused the idle keep-alive connection, which the cluster had handed to one worker: it balances connections, not requests.',
    );
  });

  it('does not blame the cache lock when distinct URLs were serialized too', () => {
    const alsoSerialized = { ...distinctUrls, serialized: true };
    const text = scenarioVerdict(sameUrl, 2, alsoSerialized);
    expect(text).toContain('even with distinct URLs, so it is not only the per-URL cache lock');
    expect(text).not.toContain('(its HTTP cache lock');
  });

  it('same URL that a browser did not queue: says what was seen, no cache-lock story', () => {
    const parallel = summarizeScenario('same-url', distinctUrls.requests.map((r) => ({ ...r, url: URL_A })));
    expect(scenarioVerdict(parallel, 2, distinctUrls)).toBe('4 tabs, same URL: sent at once, over 4 connections (3 new) → 2 PIDs. The cluster spread the 4 connections over 2 workers.');
  });

  it('distinct URLs and a fetch burst: the connections and the per-host limit, as measured', () => {
    expect(scenarioVerdict(distinctUrls, 2)).toBe(
      '4 tabs, distinct URLs: sent at once, over 4 connections (3 new) → 2 PIDs. Distinct URLs are not held back by the cache lock: each tab needed a connection at the same moment. The cluster spread the 4 connections over 2 workers.',
    );
    expect(scenarioVerdict(fetchBurst, 2)).toBe(
      '8 parallel fetches of distinct URLs: over 6 connections (5 new) → 2 PIDs. 6 connections carried 8 fetches (Chromium opens at most 6 HTTP/1.1 connections per host); 2 waited for one of them to be free (up to 1.49 s). The cluster spread the 6 connections over 2 workers.',
    );
  });

  it('several connections that all met one worker (e.g. policy none): says so', () => {
    const oneWorker = summarizeScenario('distinct-urls', distinctUrls.requests.map((r) => ({ ...r, pid: 761 })));
    expect(scenarioVerdict(oneWorker, 2)).toContain('→ 1 PID of 2 workers. Distinct URLs are not held back by the cache lock: each tab needed a connection at the same moment. The cluster handed all 4 connections to the same worker.');
  });
});

describe('browserConclusion', () => {
  it('one PID in the tabs, more elsewhere: the browser did it', () => {
    expect(browserConclusion([sameUrl, distinctUrls, fetchBurst])).toBe(
      "One PID in the tabs is the browser's doing, not the cluster's: the same URL went out one request at a time, on one reused keep-alive connection. With distinct URLs and parallel fetches the browser opened more connections, and they met 2 workers.",
    );
  });

  it('follows the data when it tells another story', () => {
    expect(browserConclusion([distinctUrls, fetchBurst])).toBe('Every scenario met more than one worker (up to 2).');
    const one = (s: typeof sameUrl) => ({ ...s, pids: [761] });
    expect(browserConclusion([one(sameUrl), one(distinctUrls)])).toBe('Every scenario met one worker, even over 4 connections: the server handed every connection to the same worker.');
    expect(browserConclusion([sameUrl])).toBeNull();
  });
});

describe('HTTP/2 (figures of a real run: Chromium 156, 2 workers, --protocols h1,h2)', () => {
  const h2 = (name: 'same-url' | 'distinct-urls' | 'fetch-burst', urls: string[], pids: number[], sent: number[], ended: number[], host: string | null = null) =>
    summarizeScenario(name, toBrowserRequests(urls, urls.map((u, i) => raw(u, sent[i]! - 2, sent[i]!, ended[i]!, 274, i > 0, pids[i]!, 200, null, 'h2', host))));
  const tabs = [1, 2, 3, 4].map((i) => `${URL_A}?tab=${i}`);
  const distinctH2 = h2('distinct-urls', tabs, [18826, 18826, 18826, 18826], [4.4, 7, 30.3, 30.4], [302, 306, 603, 606]);

  it('distinct URLs over one HTTP/2 connection: one PID, and why', () => {
    expect(distinctH2.protocol).toBe('h2');
    expect(scenarioVerdict(distinctH2, 2)).toBe(
      "4 tabs, distinct URLs: sent at once, all 4 on connection 274, HTTP/2 → 1 PID of 2 workers. Distinct URLs are not held back by the cache lock: the tabs' requests went out together. " +
        'HTTP/2 multiplexes every request to one origin over one connection, and the cluster balances connections, not requests, so one worker answered them all.',
    );
  });

  it('a fetch burst is multiplexed: no fetch waits for a connection of its own', () => {
    const urls = Array.from({ length: 12 }, (_, i) => `${URL_A}?fetch=${i + 1}`);
    const burst = h2('fetch-burst', urls, Array(12).fill(18827), urls.map((_, i) => 4 + i), urls.map(() => 1390));
    expect(scenarioVerdict(burst, 2)).toBe('12 parallel fetches of distinct URLs: all 12 on connection 274, HTTP/2 → 1 PID of 2 workers. HTTP/2 multiplexes every request to one origin over one connection, and the cluster balances connections, not requests, so one worker answered them all.');
  });

  it('through a balancer in front: one browser connection, yet several workers', () => {
    const viaNginx = h2('distinct-urls', tabs, [501, 612, 723, 501], [4, 5, 6, 7], [300, 310, 320, 330], 'host-1');
    expect(scenarioVerdict(viaNginx, null)).toMatch(/all 4 on connection 274, HTTP\/2 → 3 PIDs\. .* One browser connection, yet 3 workers answered: something in front of the cluster \(a load balancer\) spreads requests over connections of its own\.$/);
    expect(browserConclusion([viaNginx, { ...viaNginx, name: 'fetch-burst' }])).toBe('Every scenario met more than one worker (up to 3), each over a single browser connection: the balancer in front spreads requests, not connections.');
  });

  it('with both protocols measured, one answer for each, then how they differ', () => {
    const conclusion = browserConclusion([sameUrl, distinctUrls, fetchBurst, { ...distinctH2, name: 'same-url', serialized: true }, distinctH2]);
    expect(conclusion).toMatch(/^HTTP\/1\.1: One PID in the tabs is the browser's doing, not the cluster's: .* HTTP\/2: Every scenario met one worker over a single connection: HTTP\/2 sends everything for one origin over one connection, and the cluster balances connections, not requests\. /);
    expect(conclusion).toMatch(/So the same browser met up to 2 workers over up to 6 connections with HTTP\/1\.1, and 1 worker over 1 connection with HTTP\/2\.$/);
  });
});

describe('a failed request is named in the closing words and the table, not only in the exit code', () => {
  it('fleet --h2 --browser with one 502 from nginx', () => {
    const requests = toBrowserRequests(
      [1, 2, 3, 4].map((i) => `${URL_A}?tab=${i}`),
      [raw(`${URL_A}?tab=1`, 0, 5, 900, 7, false, 761, 200, null, 'h2'), raw(`${URL_A}?tab=2`, 1, 6, 950, 7, true, null, 502, null, 'h2'), raw(`${URL_A}?tab=3`, 2, 7, 990, 7, true, 762, 200, null, 'h2'), raw(`${URL_A}?tab=4`, 3, 8, 1010, 7, true, 763, 200, null, 'h2')],
    );
    const tabs = summarizeScenario('distinct-urls', requests);
    expect(tabs.failed).toBe(1);
    expect(scenarioVerdict(tabs, 6, tabs)).toContain('1 failed (HTTP 502)');
    expect(browserConclusion([sameUrl, tabs])).toMatch(/1 of 8 requests failed \(HTTP 502 ×1\)\.$/);
    expect(browserConclusion([tabs])).toBe('1 of 4 requests failed (HTTP 502 ×1).');
    expect(measuredMeetRows([{ ...tabs, verdict: '' }])[0]!.meets).toBe('3 PIDs, 1 failed');
    expect(browserConclusion([sameUrl])).toBeNull();
  });
});
