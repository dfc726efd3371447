/**
 * The verdicts of `cluster-demo browser`, written from what was measured: the queueing, the connections and
 * the PIDs the browser reported. The explanation is only given where the data shows it (the cache lock is
 * named when same-URL tabs waited for each other while distinct-URL tabs did not); otherwise the text says
 * what was seen. Pure.
 */
import { formatMs } from '../report/format.js';
import { overlapsPrevious, waitedForConnection, type BrowserRequest, type ScenarioFacts } from './analyze.js';

/** Below this a request counts as sent at once (the browser's own scheduling takes tens of ms). */
export const QUEUED_NOTABLY_MS = 100;
/** Chromium's limit of HTTP/1.1 connections per host (per proxy: 32; per profile: 256). */
export const CHROMIUM_CONNECTIONS_PER_HOST = 6;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function unitOf(s: ScenarioFacts): string {
  return s.name === 'fetch-burst' ? 'fetch' : 'tab';
}

function headline(s: ScenarioFacts): string {
  const n = s.requests.length;
  if (s.name === 'same-url') return `${plural(n, 'tab')}, same URL`;
  if (s.name === 'distinct-urls') return `${plural(n, 'tab')}, distinct URLs`;
  if (s.name === 'websocket') return `${plural(n, 'tab')}, a WebSocket each`;
  return `${plural(n, 'parallel fetch', 'parallel fetches')} of distinct URLs`;
}

function bySending(s: ScenarioFacts): BrowserRequest[] {
  return s.requests.filter((r) => r.startedMs !== null).sort((a, b) => a.startedMs! - b.startedMs!);
}

function maxQueued(requests: readonly BrowserRequest[]): number {
  return Math.max(0, ...requests.map((r) => r.queuedMs ?? 0));
}

function timing(s: ScenarioFacts): string | null {
  const unit = unitOf(s);
  // A socket is not a request that waits for another: when each opened says nothing about the cache lock.
  if (s.name === 'websocket') return null;
  // A burst's waiting is explained with its connections (explanation()), not here.
  if (s.name === 'fetch-burst' && !s.serialized) return null;
  if (s.serialized) {
    const later = bySending(s).slice(1);
    const shown = later.slice(0, 4).map((r) => `${unit} ${r.index} queued ${formatMs(r.queuedMs ?? 0)}`);
    if (later.length > shown.length) shown.push('…');
    // The printed times overlap: each went out once the previous headers were in, while its body still came.
    if (overlapsPrevious(s.requests)) return `each sent once the previous response's headers were in, while its body was still coming (${shown.join(', ')})`;
    return `served one after another (${shown.join(', ')})`;
  }
  const waited = s.requests.filter((r) => (r.queuedMs ?? 0) >= QUEUED_NOTABLY_MS);
  if (waited.length === 0) return 'sent at once';
  return `sent together, but ${plural(waited.length, unit, unit === 'fetch' ? 'fetches' : `${unit}s`)} waited up to ${formatMs(maxQueued(waited))}`;
}

const isH2 = (s: ScenarioFacts) => s.protocol === 'h2';

function connectionsSeen(s: ScenarioFacts): string {
  if (s.name === 'websocket') return `${plural(s.connections.length, 'connection')} (the client ports the workers saw)`;
  if (s.connections.length === 1) return `all ${s.requests.length > 2 ? `${s.requests.length} ` : ''}on connection ${s.connections[0]}${isH2(s) ? ', HTTP/2' : ''}`;
  const fresh = s.requests.filter((r) => r.connectionReused === false).length;
  return `over ${plural(s.connections.length, 'connection')} (${fresh} new)`;
}

function pidsSeen(s: ScenarioFacts, workers: number | null): string {
  const p = s.pids.length;
  return `${plural(p, 'PID')}${workers !== null && p < workers ? ` of ${workers} workers` : ''}`;
}

/** How the cluster met the connections: it balances connections, so this is the part it decides. */
function clusterPart(s: ScenarioFacts): string {
  const k = s.connections.length;
  const p = s.pids.length;
  if (k === 0 || p === 0) return '';
  // More workers than connections: something between the browser and the cluster spread the requests.
  if (p > k) return `${k === 1 ? 'One browser connection' : `${k} browser connections`}, yet ${plural(p, 'worker')} answered: something in front of the cluster (a load balancer) spreads requests over connections of its own.`;
  if (k === 1 && isH2(s)) return 'HTTP/2 multiplexes every request to one origin over one connection, and the cluster balances connections, not requests, so one worker answered them all.';
  if (k === 1) return 'One connection carried every request, and the cluster hands out connections, not requests, so one worker answered them all.';
  if (p === 1) return `The cluster handed all ${k} connections to the same worker.`;
  return `The cluster spread the ${k} connections over ${plural(p, 'worker')}.`;
}

function explanation(s: ScenarioFacts, distinctUrls: ScenarioFacts | undefined, sameUrl?: ScenarioFacts): string {
  const parts: string[] = [];
  if (s.name === 'same-url' && s.serialized) {
    if (distinctUrls && distinctUrls.serialized) {
      parts.push('The tabs were served one at a time even with distinct URLs, so it is not only the per-URL cache lock.');
    } else {
      const evidence = distinctUrls ? '; the same tabs with distinct URLs went out at once' : '';
      parts.push(`Chromium sends one request per URL at a time (its HTTP cache lock${evidence}): the others wait for the first response.`);
      if (s.connections.length === 1 && s.pids.length === 1 && s.requests.length > 1) {
        parts.push(
          isH2(s)
            ? 'Each then went over the one HTTP/2 connection to this origin, which the cluster had handed to one worker: it balances connections, not requests.'
            : 'Each then reused the idle keep-alive connection, which the cluster had handed to one worker: it balances connections, not requests.',
        );
        return parts.join(' ');
      }
    }
  } else if (s.name === 'distinct-urls' && !s.serialized && maxQueued(s.requests) < QUEUED_NOTABLY_MS) {
    parts.push(isH2(s) ? 'Distinct URLs are not held back by the cache lock: the tabs\' requests went out together.' : 'Distinct URLs are not held back by the cache lock: each tab needed a connection at the same moment.');
  } else if (s.name === 'websocket') {
    const same = sameUrl;
    const contrast = same && same.pids.length < s.pids.length ? `, where the same-URL tabs met ${plural(same.pids.length, 'worker')}` : '';
    parts.push(`A WebSocket is a connection of its own, never a reused keep-alive one (nor, here, a stream of an HTTP/2 connection): each tab's socket was handed to a worker by itself${contrast}.`);
  } else if (s.name === 'fetch-burst' && isH2(s)) {
    // Multiplexed: no fetch waits for a connection of its own (the cluster part below says what that means).
  } else if (s.name === 'fetch-burst') {
    const waited = waitedForConnection(s.requests);
    const k = s.connections.length;
    if (waited.length > 0) {
      const cap = k === CHROMIUM_CONNECTIONS_PER_HOST ? ` (Chromium opens at most ${CHROMIUM_CONNECTIONS_PER_HOST} HTTP/1.1 connections per host)` : '';
      parts.push(`${plural(k, 'connection')} carried ${plural(s.requests.length, 'fetch', 'fetches')}${cap}; ${waited.length} waited for one of them to be free (up to ${formatMs(maxQueued(waited))}).`);
    } else {
      parts.push('Each fetch had a connection of its own.');
    }
  }
  const cluster = clusterPart(s);
  if (cluster) parts.push(cluster);
  return parts.join(' ');
}

/** One scenario's verdict: what was seen, then why, as far as the data shows it. */
export function scenarioVerdict(s: ScenarioFacts, workers: number | null, distinctUrls?: ScenarioFacts, sameUrl?: ScenarioFacts): string {
  if (s.failed === s.requests.length) return `${headline(s)}: every request failed (${s.requests[0]?.error ?? 'unknown error'}).`;
  const failed = s.failed > 0 ? `; ${s.failed} failed (${s.requests.find((r) => r.error)?.error})` : '';
  const when = timing(s);
  const seen = `${headline(s)}: ${when ? `${when}, ` : ''}${connectionsSeen(s)} → ${pidsSeen(s, workers)}${failed}.`;
  const why = explanation(s, distinctUrls, sameUrl);
  return why ? `${seen} ${why}` : seen;
}

const PROTOCOL_NAMES: Record<string, string> = { 'http/1.1': 'HTTP/1.1', h2: 'HTTP/2' };

/**
 * The answer across scenarios, when there is more than one to compare; null otherwise. With two protocols
 * measured (--protocols h1,h2), one answer for each, then how they differ.
 */
export function browserConclusion(scenarios: readonly ScenarioFacts[]): string | null {
  // A failed request is named in the closing words too, never left to the exit code alone.
  return [answerAcross(scenarios), failures(scenarios)].filter((part) => part !== null).join(' ') || null;
}

/** "2 of 24 requests failed (HTTP 502 ×2)", or null when none did. */
function failures(scenarios: readonly ScenarioFacts[]): string | null {
  const requests = scenarios.flatMap((s) => s.requests);
  const errors = new Map<string, number>();
  for (const r of requests) if (r.error) errors.set(r.error, (errors.get(r.error) ?? 0) + 1);
  const failed = [...errors.values()].reduce((sum, n) => sum + n, 0);
  if (failed === 0) return null;
  return `${failed} of ${plural(requests.length, 'request')} failed (${[...errors].map(([error, n]) => `${error} ×${n}`).join(', ')}).`;
}

function answerAcross(all: readonly ScenarioFacts[]): string | null {
  // The WebSocket scenario is its own sentence: a socket per tab, whatever protocol the pages came over.
  const scenarios = all.filter((s) => s.name !== 'websocket');
  const sockets = all.filter((s) => s.name === 'websocket' && s.pids.length > 0);
  const websocket = sockets.length > 0 ? ` Tabs that each opened a WebSocket met ${sockets.map((s) => plural(s.pids.length, 'worker')).join(' and ')}: a socket is a connection of its own.` : '';
  const answer = answerAcrossRequests(scenarios);
  return answer === null && websocket === '' ? null : `${answer ?? ''}${websocket}`.trim();
}

function answerAcrossRequests(scenarios: readonly ScenarioFacts[]): string | null {
  const protocols = [...new Set(scenarios.map((s) => s.protocol ?? 'unknown'))];
  if (protocols.length < 2) return conclusionFor(scenarios);
  const parts = protocols.map((protocol) => {
    const group = scenarios.filter((s) => (s.protocol ?? 'unknown') === protocol);
    const name = PROTOCOL_NAMES[protocol] ?? protocol;
    return `${name}: ${conclusionFor(group) ?? `${plural(Math.max(...group.map((s) => s.pids.length)), 'PID')}.`}`;
  });
  const most = (protocol: string) => Math.max(0, ...scenarios.filter((s) => s.protocol === protocol).map((s) => s.pids.length));
  const conns = (protocol: string) => Math.max(0, ...scenarios.filter((s) => s.protocol === protocol).map((s) => s.connections.length));
  if (protocols.includes('http/1.1') && protocols.includes('h2')) {
    parts.push(`So the same browser met up to ${plural(most('http/1.1'), 'worker')} over up to ${plural(conns('http/1.1'), 'connection')} with HTTP/1.1, and ${plural(most('h2'), 'worker')} over ${plural(conns('h2'), 'connection')} with HTTP/2.`);
  }
  return parts.join(' ');
}

function conclusionFor(scenarios: readonly ScenarioFacts[]): string | null {
  if (scenarios.length < 2) return null;
  const same = scenarios.find((s) => s.name === 'same-url');
  const others = scenarios.filter((s) => s.name !== 'same-url');
  const mostPids = Math.max(...scenarios.map((s) => s.pids.length));
  if (same && same.pids.length === 1 && others.length > 0 && others.every((s) => s.pids.length > 1)) {
    const why = same.serialized
      ? 'the same URL went out one request at a time, on ' + (same.connections.length === 1 ? 'one reused keep-alive connection' : `${same.connections.length} connections`)
      : `its tabs used ${plural(same.connections.length, 'connection')}`;
    return `One PID in the tabs is the browser's doing, not the cluster's: ${why}. With distinct URLs and parallel fetches the browser opened more connections, and they met ${mostPids} workers.`;
  }
  const conns = Math.max(...scenarios.map((s) => s.connections.length));
  if (scenarios.every((s) => s.pids.length > 1)) {
    const front = conns === 1 ? ', each over a single browser connection: the balancer in front spreads requests, not connections' : '';
    return `Every scenario met more than one worker (up to ${mostPids})${front}.`;
  }
  if (scenarios.every((s) => s.pids.length <= 1)) {
    if (conns > 1) return `Every scenario met one worker, even over ${conns} connections: the server handed every connection to the same worker.`;
    return scenarios.every(isH2)
      ? 'Every scenario met one worker over a single connection: HTTP/2 sends everything for one origin over one connection, and the cluster balances connections, not requests.'
      : 'Every scenario met one worker over a single connection.';
  }
  const summary = scenarios.map((s) => `${s.name} ${plural(s.pids.length, 'PID')}`).join(', ');
  return `PIDs seen per scenario: ${summary}.`;
}
