/**
 * The pure statistics and formatting helpers, with literal numbers: fairness (src/statistics/fairness.ts),
 * failure attribution (src/statistics/attribution.ts), latency percentiles (src/statistics/latency.ts) and the bar and
 * millisecond formatting of the report (src/report/style.ts).
 */
import { describe, expect, it } from 'vitest';
import { bar, formatMs } from '../src/report/style.js';
import { attributeFailures, type Death, type TimedFailure } from '../src/statistics/attribution.js';
import { jainIndex, maxMinRatio, median, minMax, padWithSilentWorkers, pairedRatio, round, shares } from '../src/statistics/fairness.js';
import { newLatencyHistogram, recordMs, summarizeLatency } from '../src/statistics/latency.js';
import { withSilentWorkers, type RouteReport } from '../src/load/summary.js';

describe('shares', () => {
  it('is each count over the total', () => {
    expect(shares([1, 3])).toEqual([0.25, 0.75]);
    expect(shares([2, 2, 4])).toEqual([0.25, 0.25, 0.5]);
    expect(shares([7])).toEqual([1]);
  });

  it('is 0 everywhere when nothing was counted, and empty for no workers', () => {
    expect(shares([0, 0, 0])).toEqual([0, 0, 0]);
    expect(shares([])).toEqual([]);
  });
});

describe('jainIndex', () => {
  it('is 1 for a perfectly even spread', () => {
    expect(jainIndex([1, 1, 1, 1])).toBe(1);
    expect(jainIndex([250, 250, 250, 250])).toBe(1);
  });

  it('is 1/n when one worker got everything', () => {
    expect(jainIndex([4, 0, 0, 0])).toBe(0.25);
    expect(jainIndex([0, 9])).toBe(0.5);
  });

  it('is (Σx)² / (n·Σx²) in between', () => {
    expect(jainIndex([3, 1])).toBeCloseTo(0.8, 12); // 16 / (2 · 10)
    expect(jainIndex([1, 2, 3])).toBeCloseTo(36 / 42, 12); // 36 / (3 · 14)
  });

  it('is 0 with no workers or no requests', () => {
    expect(jainIndex([])).toBe(0);
    expect(jainIndex([0, 0])).toBe(0);
  });
});

describe('maxMinRatio', () => {
  it('is the busiest over the least busy', () => {
    expect(maxMinRatio([3, 1])).toBe(3);
    expect(maxMinRatio([10, 20, 15])).toBe(2);
    expect(maxMinRatio([5])).toBe(1);
    expect(maxMinRatio([4, 4, 4])).toBe(1);
  });

  it('is Infinity when a worker got nothing', () => {
    expect(maxMinRatio([2, 0])).toBe(Infinity);
    expect(maxMinRatio([0, 5, 5])).toBe(Infinity);
  });

  it('is NaN with no workers, or when nobody got anything', () => {
    expect(maxMinRatio([])).toBeNaN();
    expect(maxMinRatio([0, 0])).toBeNaN();
  });
});

describe('padWithSilentWorkers', () => {
  it('adds a zero for every expected worker that did not answer', () => {
    expect(padWithSilentWorkers([3, 1], 4)).toEqual([3, 1, 0, 0]);
    expect(padWithSilentWorkers([], 2)).toEqual([0, 0]);
  });

  it('leaves the counts alone when the expected count is unknown or already reached', () => {
    expect(padWithSilentWorkers([3, 1], undefined)).toEqual([3, 1]);
    expect(padWithSilentWorkers([3, 1], 2)).toEqual([3, 1]);
    // More PIDs than expected (replacements after a crash): nothing is dropped.
    expect(padWithSilentWorkers([1, 2, 3], 2)).toEqual([1, 2, 3]);
  });

  it('returns a new array', () => {
    const counts = [5];
    const padded = padWithSilentWorkers(counts, 3);
    expect(padded).toEqual([5, 0, 0]);
    expect(counts).toEqual([5]);
  });

  it('turns a silent worker into unfairness', () => {
    expect(jainIndex(padWithSilentWorkers([10], 2))).toBe(0.5);
    expect(maxMinRatio(padWithSilentWorkers([10, 10], 3))).toBe(Infinity);
  });
});

describe('median and minMax', () => {
  it('median is the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('median does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('minMax is the extremes, NaN for no values', () => {
    expect(minMax([3, -1, 2])).toEqual({ min: -1, max: 3 });
    expect(minMax([5])).toEqual({ min: 5, max: 5 });
    const empty = minMax([]);
    expect(empty.min).toBeNaN();
    expect(empty.max).toBeNaN();
  });
});

describe('round', () => {
  it('keeps 3 digits by default', () => {
    expect(round(1.23456)).toBe(1.235);
    expect(round(2)).toBe(2);
    expect(round(0.0004)).toBe(0);
  });

  it('keeps the digits asked for', () => {
    expect(round(1.25, 1)).toBe(1.3);
    expect(round(1234.5678, 0)).toBe(1235);
    expect(round(0.123456, 4)).toBe(0.1235);
  });

  it('passes non-finite values through', () => {
    expect(round(Infinity)).toBe(Infinity);
    expect(round(-Infinity, 2)).toBe(-Infinity);
    expect(round(NaN)).toBeNaN();
  });
});

describe('attributeFailures', () => {
  const deaths: Death[] = [
    { pid: 10, at: 1000 },
    { pid: 20, at: 2000 },
  ];
  const failure = (startedAt: number, failedAt: number, cause = 'ECONNRESET'): TimedFailure => ({ startedAt, failedAt, cause });

  it('credits a failure to the death it was in flight for', () => {
    const { byPid, unattributed } = attributeFailures([failure(900, 1010), failure(1950, 2005), failure(1990, 2001)], deaths);
    expect(Object.fromEntries(byPid)).toEqual({ 10: 1, 20: 2 });
    expect(unattributed).toBe(0);
  });

  it('with several deaths during one request, the latest one before the failure wins', () => {
    const { byPid, unattributed } = attributeFailures([failure(500, 2100)], deaths);
    expect(Object.fromEntries(byPid)).toEqual({ 20: 1 });
    expect(unattributed).toBe(0);
  });

  it('a failure between deaths, or long after one, is unattributed', () => {
    const { byPid, unattributed } = attributeFailures([failure(1200, 1300), failure(2500, 2600), failure(100, 200)], deaths);
    expect(byPid.size).toBe(0);
    expect(unattributed).toBe(3);
  });

  it('allows slackMs either side (50 by default) for the kernel to deliver the reset', () => {
    // Started 30 ms after the death (the connection was already handed to the dying worker) …
    const late = failure(1030, 1100);
    // … or failed 40 ms before the recorded death (the exit event arrives after the reset).
    const early = failure(800, 960);
    expect(Object.fromEntries(attributeFailures([late, early], deaths).byPid)).toEqual({ 10: 2 });
    expect(attributeFailures([late, early], deaths, 0)).toEqual({ byPid: new Map(), unattributed: 2 });
    // Just outside the default slack.
    expect(attributeFailures([failure(1051, 1100), failure(800, 949)], deaths).unattributed).toBe(2);
  });

  it('does not depend on the order of the deaths', () => {
    const failures = [failure(900, 1010), failure(500, 2100), failure(1200, 1300)];
    const sorted = attributeFailures(failures, deaths);
    const reversed = attributeFailures(failures, [...deaths].reverse());
    expect(Object.fromEntries(reversed.byPid)).toEqual(Object.fromEntries(sorted.byPid));
    expect(reversed.unattributed).toBe(sorted.unattributed);
    expect(Object.fromEntries(sorted.byPid)).toEqual({ 10: 1, 20: 1 });
    expect(sorted.unattributed).toBe(1);
  });

  it('with no deaths every failure is unattributed; with no failures nothing is counted', () => {
    expect(attributeFailures([failure(1, 2), failure(3, 4)], [])).toEqual({ byPid: new Map(), unattributed: 2 });
    expect(attributeFailures([], deaths)).toEqual({ byPid: new Map(), unattributed: 0 });
  });
});

describe('summarizeLatency', () => {
  it('is all zeros for an empty histogram', () => {
    expect(summarizeLatency(newLatencyHistogram())).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('gives exact percentiles in ms for sub-2 ms values (recorded in µs, stored exactly)', () => {
    const histogram = newLatencyHistogram();
    for (let i = 1; i <= 10; i++) recordMs(histogram, i / 10); // 0.1 … 1.0 ms
    expect(histogram.count).toBe(10);
    expect(summarizeLatency(histogram)).toEqual({ p50: 0.5, p90: 0.9, p99: 1, max: 1 });

    const hundred = newLatencyHistogram();
    for (let i = 1; i <= 100; i++) recordMs(hundred, i / 100); // 0.01 … 1.00 ms
    expect(summarizeLatency(hundred)).toEqual({ p50: 0.5, p90: 0.9, p99: 0.99, max: 1 });
  });

  it('records 0 ms as 1 µs and keeps large values within the histogram precision (0.1 %)', () => {
    const histogram = newLatencyHistogram();
    recordMs(histogram, 0);
    for (let i = 0; i < 9; i++) recordMs(histogram, 0.2);
    recordMs(histogram, 250);
    expect(histogram.min).toBe(1);
    const summary = summarizeLatency(histogram);
    expect(summary.p50).toBe(0.2);
    expect(summary.p90).toBe(0.2);
    expect(Math.abs(summary.max - 250) / 250).toBeLessThan(0.001);
    expect(Math.abs(summary.p99 - 250) / 250).toBeLessThan(0.001);
  });
});

describe('bar', () => {
  it('is width full cells at the maximum, and proportional below it', () => {
    expect(bar(1, 1, 4)).toBe('████');
    expect(bar(0.5, 1, 4)).toBe('██');
    expect(bar(30, 60, 28)).toBe('█'.repeat(14));
  });

  it('uses eighth cells for the remainder', () => {
    expect(bar(0.3, 1, 4)).toBe('█▎'); // 9.6 → 10 eighths
    expect(bar(1, 8, 1)).toBe('▏'); // 1 eighth
    expect(bar(7, 8, 1)).toBe('▉'); // 7 eighths
  });

  it('shows at least one eighth for any positive value', () => {
    expect(bar(0.001, 1, 4)).toBe('▏');
  });

  it('is empty for zero, negative or meaningless input', () => {
    expect(bar(0, 1, 4)).toBe('');
    expect(bar(-1, 1, 4)).toBe('');
    expect(bar(1, 0, 4)).toBe('');
    expect(bar(NaN, 1, 4)).toBe('');
    expect(bar(1, NaN, 4)).toBe('');
  });
});

describe('formatMs', () => {
  it('picks the unit and precision by magnitude', () => {
    expect(formatMs(0)).toBe('0.00 ms');
    expect(formatMs(0.5)).toBe('0.50 ms');
    expect(formatMs(1.234)).toBe('1.23 ms');
    expect(formatMs(12.34)).toBe('12.3 ms');
    expect(formatMs(250)).toBe('250 ms');
    expect(formatMs(999.4)).toBe('999 ms');
    expect(formatMs(1000)).toBe('1.00 s');
    expect(formatMs(1234)).toBe('1.23 s');
    expect(formatMs(65_000)).toBe('65.00 s');
  });
});

describe('withSilentWorkers: every known worker is a row', () => {
  const route = (workers: RouteReport['workers']): RouteReport =>
    ({ route: '/pid', workers, fairness: { jain: 1, maxMinRatio: 1, hosts: { jain: null, maxMinRatio: null } } }) as unknown as RouteReport;
  const served = { pid: 11, host: 'h', primaryPid: 10, requests: 200, share: 1, latencyMs: { p50: 1.5, p99: 3 } };

  it('adds the one that answered nothing with 0, its host and primary as the others, and fairness counts it', () => {
    const report = withSilentWorkers(route([served]), [{ pid: 11 }, { pid: 12 }], null);
    expect(report.workers).toEqual([served, { pid: 12, host: 'h', primaryPid: 10, requests: 0, share: 0, latencyMs: { p50: null, p99: null } }]);
    expect(report.fairness.jain).toBe(0.5);
    expect(report.fairness.maxMinRatio).toBeNull();
  });

  it('changes nothing when every known worker answered, and keeps a host the stats named', () => {
    const same = route([served]);
    expect(withSilentWorkers(same, [{ pid: 11 }], 1)).toBe(same);
    expect(withSilentWorkers(route([served]), [{ pid: 21, host: 'other', primaryPid: 20 }], 2).workers[1]).toMatchObject({ pid: 21, host: 'other', primaryPid: 20, requests: 0 });
  });
});

describe('pairedRatio: the median of per-run ratios, the one statistic of compare and the bench', () => {
  it('pairs run i with run i, which a ratio of medians does not', () => {
    // B was half of A in two of three side-by-side runs; the medians come from different runs and say 2×.
    const a = [10_000, 1_000, 1_000];
    const b = [5_000, 500, 2_000];
    expect(pairedRatio(b, a)).toEqual({ ratio: 0.5, range: { min: 0.5, max: 2 } });
    expect(median(b) / median(a)).toBe(2);
    expect(pairedRatio([2, 9, 3], [1, 10, 1])).toEqual({ ratio: 2, range: { min: 0.9, max: 3 } });
    expect(pairedRatio([1, 2, 3, 4], [1, 1, 1, 1])).toEqual({ ratio: 2.5, range: { min: 1, max: 4 } });
  });

  it('leaves out runs where A measured nothing; none left → 0', () => {
    expect(pairedRatio([5, 7], [0, 7])).toEqual({ ratio: 1, range: { min: 1, max: 1 } });
    expect(pairedRatio([5], [0])).toEqual({ ratio: 0, range: { min: 0, max: 0 } });
    expect(pairedRatio([], [])).toEqual({ ratio: 0, range: { min: 0, max: 0 } });
  });
});
