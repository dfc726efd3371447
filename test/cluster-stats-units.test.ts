/** The stats' pure parts, with literal inputs: exposition text, the probe's cross-check, serve's live table. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RouteReport } from '../src/load/summary.js';
import { countMismatches, serverCountsBetween } from '../src/probe/server-counts.js';
import { ratesBetween, renderServeLive, renderServeSummary } from '../src/report/serve-live.js';
import { makeChalk } from '../src/report/style.js';
import { isLoopbackHost, statsSettings } from '../src/cluster/settings.js';
import { emptyRouteCounts, type ClusterStatsDoc, type WorkerStats } from '../src/cluster/counts/document.js';
import { inlineJson } from '../src/cluster/counts/endpoints.js';
import { renderPrometheus } from '../src/cluster/counts/prometheus.js';
import { statusClass, WorkerStats as WorkerCounters } from '../src/cluster/counts/worker-stats.js';
import type { WorkerToPrimary } from '../src/cluster/messages.js';

function worker(pid: number, slot: number, pidRequests: number, extra: Partial<WorkerStats> = {}): WorkerStats {
  const byRoute = emptyRouteCounts();
  byRoute['/pid']['2xx'] = pidRequests;
  return {
    id: slot + 1, pid, slot, state: 'listening', requests: pidRequests, byRoute, connections: pidRequests, inFlight: 0, elu: 0.25, rssBytes: 50 * 1_048_576,
    heapUsedBytes: 5_000_000, cpuUserMs: 1500, cpuSystemMs: 250, restarts: 0, startedAt: 1_700_000_000_000, reportAgeMs: 100, exit: null, ...extra,
  };
}

function doc(workers: WorkerStats[], extra: Partial<ClusterStatsDoc> = {}): ClusterStatsDoc {
  const requests = workers.reduce((s, w) => s + w.requests, 0);
  return { primaryPid: 100, policy: 'rr', hostname: 'web-1', uptimeMs: 60_000, workers, totals: { requests, connections: requests }, events: [], ...extra };
}

describe('renderPrometheus', () => {
  const text = renderPrometheus(doc([worker(201, 0, 7), worker(202, 1, 3, { restarts: 2 }), worker(150, 1, 40, { state: 'exited', exit: { code: null, signal: 'SIGKILL', at: 1 }, restarts: 1 })], { totals: { requests: 50, connections: 50 } }));

  it('has HELP and TYPE before each family, and one sample per live worker, route and status class', () => {
    expect(text).toContain('# HELP cluster_demo_requests_total ');
    expect(text).toContain('# TYPE cluster_demo_requests_total counter\ncluster_demo_requests_total{worker_pid="201",worker_id="1",route="/",status="2xx"} 0');
    expect(text).toContain('cluster_demo_requests_total{worker_pid="201",worker_id="1",route="/pid",status="2xx"} 7');
    expect(text).toContain('cluster_demo_requests_total{worker_pid="202",worker_id="2",route="/pid",status="2xx"} 3');
    expect(text.match(/^cluster_demo_requests_total\{/gm)).toHaveLength(2 * 4 * 4);
    // The exited worker's series end; its requests stay in the cluster's total.
    expect(text).not.toContain('worker_pid="150"');
    expect(text).toContain('cluster_demo_cluster_requests_total 50');
  });

  it('gauges and counters per worker, restarts per slot, states, the primary', () => {
    expect(text).toContain('cluster_demo_event_loop_utilization{worker_pid="201",worker_id="1"} 0.25');
    expect(text).toContain('cluster_demo_process_resident_memory_bytes{worker_pid="202",worker_id="2"} 52428800');
    expect(text).toContain('cluster_demo_process_cpu_seconds_total{worker_pid="201",worker_id="1",mode="user"} 1.5');
    expect(text).toContain('cluster_demo_worker_restarts_total{slot="0"} 0\ncluster_demo_worker_restarts_total{slot="1"} 2');
    expect(text).toContain('cluster_demo_workers{state="listening"} 2');
    expect(text).toContain('cluster_demo_primary_info{primary_pid="100",policy="rr",hostname="web-1"} 1');
    expect(text.endsWith('\n')).toBe(true);
  });

  it("a user's app: its paths as the route label, and a family by method", () => {
    const app = worker(201, 0, 0, { app: { byPath: { '/users/1': { '2xx': 4, '3xx': 0, '4xx': 0, '5xx': 1 } }, byMethod: { GET: 5 } } });
    const out = renderPrometheus(doc([app]));
    expect(out).toContain('cluster_demo_requests_total{worker_pid="201",worker_id="1",route="/users/1",status="2xx"} 4');
    expect(out).toContain('cluster_demo_requests_total{worker_pid="201",worker_id="1",route="/users/1",status="5xx"} 1');
    expect(out).not.toContain('route="/pid"');
    expect(out).toContain('cluster_demo_requests_by_method_total{worker_pid="201",worker_id="1",method="GET"} 5');
  });

  it('escapes label values', () => {
    const odd = renderPrometheus(doc([worker(1, 0, 0)], { hostname: 'a "b"\\c\nd' }));
    expect(odd).toContain('hostname="a \\"b\\"\\\\c\\nd"');
  });
});

describe('the probe against the server', () => {
  const before = doc([worker(201, 0, 10), worker(202, 1, 10)]);
  const after = doc([worker(201, 0, 60), worker(202, 1, 58)]);

  it('per route and worker, the difference between two readings of the same primary', () => {
    expect(serverCountsBetween([before], [after], ['/pid', '/api/:n'])).toEqual({
      covered: [{ hostname: 'web-1', primaryPid: 100 }],
      workers: [
        { route: '/pid', host: 'web-1', primaryPid: 100, pid: 201, requests: 50 },
        { route: '/pid', host: 'web-1', primaryPid: 100, pid: 202, requests: 48 },
      ],
      // /api/:n is one of the routes the demo counts apart, with nothing counted on it in between.
      counted: ['/pid', '/api/:n'],
    });
    // Another primary answered the second reading (a balancer in front): nothing can be compared.
    expect(serverCountsBetween([before], [{ ...after, primaryPid: 999 }], ['/pid'])).toEqual({ covered: [], workers: [], counted: [] });
    expect(serverCountsBetween([null], [after], ['/pid'])).toEqual({ covered: [], workers: [], counted: [] });
    // A path the demo server does not count apart (probe --path /api/7) is not compared.
    expect(serverCountsBetween([before], [after], ['/api/7'])).toEqual({ covered: [{ hostname: 'web-1', primaryPid: 100 }], workers: [], counted: [] });
  });

  it("a user's app: each path the probe sent, read from the app's counters without its query", () => {
    const app = (pid: number, slot: number, users: number, root: number) =>
      worker(pid, slot, 0, { app: { byPath: { '/users/1': { '2xx': users, '3xx': 0, '4xx': 0, '5xx': 0 }, '/': { '2xx': root, '3xx': 0, '4xx': 1, '5xx': 0 } }, byMethod: { GET: users + root } } });
    const first = doc([app(201, 0, 5, 0), app(202, 1, 0, 0)]);
    const second = doc([app(201, 0, 25, 7), app(202, 1, 30, 3)]);
    expect(serverCountsBetween([first], [second], ['/users/1', '/?x=1'])).toEqual({
      covered: [{ hostname: 'web-1', primaryPid: 100 }],
      workers: [
        { route: '/users/1', host: 'web-1', primaryPid: 100, pid: 201, requests: 20 },
        { route: '/users/1', host: 'web-1', primaryPid: 100, pid: 202, requests: 30 },
        { route: '/?x=1', host: 'web-1', primaryPid: 100, pid: 201, requests: 7 },
        { route: '/?x=1', host: 'web-1', primaryPid: 100, pid: 202, requests: 3 },
      ],
      counted: ['/users/1', '/?x=1'],
    });
  });

  it('a mismatch is a difference beyond the failures and retries the probe knows of', () => {
    const route = (failed: number, retries: number, counts: number[]) =>
      ({ route: '/pid', failed, retries, workers: counts.map((requests, i) => ({ pid: 201 + i, host: 'web-1', primaryPid: 100, requests })) }) as unknown as RouteReport;
    const { covered, workers } = serverCountsBetween([before], [after], ['/pid']);
    expect(countMismatches([route(0, 0, [50, 48])], workers, covered)).toEqual([]);
    expect(countMismatches([route(2, 0, [50, 50])], workers, covered)).toEqual([]);
    expect(countMismatches([route(1, 0, [50, 50])], workers, covered)).toEqual([{ route: '/pid', probe: 100, server: 98, explained: 1 }]);
    // Workers of a primary whose stats were not read are not compared.
    const elsewhere = { ...route(0, 0, [50, 48]), workers: [...route(0, 0, [50, 48]).workers, { pid: 7, host: 'web-2', primaryPid: 555, requests: 900 }] } as unknown as RouteReport;
    expect(countMismatches([elsewhere], workers, covered)).toEqual([]);
  });
});

describe("serve's live view", () => {
  const c = makeChalk(false);
  const older = doc([worker(201, 0, 100), worker(202, 1, 100)], { uptimeMs: 10_000 });
  const newer = doc([worker(201, 0, 300), worker(202, 1, 200), worker(150, 1, 40, { state: 'exited', exit: { code: null, signal: 'SIGKILL', at: 1 } })], { uptimeMs: 12_000 });

  it('req/s per worker between two documents', () => {
    expect(ratesBetween(older, newer)).toEqual(new Map([[201, 100], [202, 50]]));
    expect(ratesBetween(null, newer)).toEqual(new Map([[201, 0], [202, 0]]));
  });

  it('one row per live worker, the exited dimmed below, the totals', () => {
    const text = renderServeLive(newer, ratesBetween(older, newer), c, 'http://127.0.0.1:3000/dashboard');
    const lines = text.split('\n');
    expect(lines[0]).toBe('web-1 · primary 100 · policy rr · up 12 s · http://127.0.0.1:3000/dashboard');
    expect(lines.find((l) => l.includes(' 201 '))).toMatch(/│\s+201 │ listening\s+│\s+300 │ █{16} │\s+100 │ 60\.0% │\s+300 │\s+0 │ 0\.25 │ 50 MB │\s+0 │/);
    expect(lines.find((l) => l.includes(' 150 '))).toMatch(/│\s+150 │ exited \(SIGKILL\)/);
    expect(lines.at(-1)).toBe('total 540 requests · 150 req/s now · 540 connections · Ctrl-C stops, SIGHUP reloads');
  });

  it('a worker whose report is late is shown busy, not as if its figures were current', () => {
    const busy = renderServeLive(doc([worker(201, 0, 1, { reportAgeMs: 3_400 })]), new Map(), c, null);
    expect(busy).toMatch(/│ busy 3 s\s+│/);
  });

  it('the once-a-minute line for logs', () => {
    expect(renderServeSummary(newer, older, 60_000)).toBe('Requests in the last 1.0 min: 340 (201: 200, 202: 100) · 540 since start');
  });
});

describe('small rules', () => {
  it('status classes', () => {
    expect([200, 204, 301, 404, 431, 500, 503].map(statusClass)).toEqual(['2xx', '2xx', '3xx', '4xx', '4xx', '5xx', '5xx']);
  });

  it('the stats routes answer on a loopback bind unless told otherwise', () => {
    expect(['127.0.0.1', '127.0.0.12', '::1', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '::', '192.168.1.5', 'example.com', '1270.0.0.1'].map(isLoopbackHost)).toEqual([false, false, false, false, false]);
    expect(statsSettings(undefined, '127.0.0.1')).toEqual({ count: true, endpoints: true });
    expect(statsSettings(undefined, '0.0.0.0')).toEqual({ count: true, endpoints: false });
    expect(statsSettings(true, '0.0.0.0')).toEqual({ count: true, endpoints: true });
    expect(statsSettings(false, '127.0.0.1')).toEqual({ count: false, endpoints: false });
  });

  it('JSON inlined in the dashboard cannot close its script element', () => {
    expect(inlineJson({ hostname: '</script><script>alert(1)</script>' })).toBe('{"hostname":"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>"}');
  });
});

describe('a worker\'s reports: armed by activity, silent when idle', () => {
  afterEach(() => vi.useRealTimers());

  function counters(): { stats: WorkerCounters; sent: WorkerToPrimary[]; connections: { n: number } } {
    const sent: WorkerToPrimary[] = [];
    const connections = { n: 0 };
    const stats = new WorkerCounters((m) => sent.push(m), { connections: () => connections.n, inFlight: () => 0 });
    return { stats, sent, connections };
  }

  it('one report after listening, then nothing however long the worker stays idle', () => {
    vi.useFakeTimers();
    const { stats, sent } = counters();
    stats.start();
    vi.advanceTimersByTime(250);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(250);
    expect(sent).toHaveLength(2); // the trailing report of a quiet worker
    vi.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('requests: one report per tick while they come, one trailing report after, then silence', () => {
    vi.useFakeTimers();
    const { stats, sent } = counters();
    for (let tick = 0; tick < 4; tick++) {
      for (let i = 0; i < 100; i++) stats.count('/pid', 200);
      vi.advanceTimersByTime(250);
    }
    expect(sent).toHaveLength(4);
    vi.advanceTimersByTime(250);
    expect(sent).toHaveLength(5);
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(5);
    const last = sent.at(-1) as Extract<WorkerToPrimary, { type: 'stats' }>;
    expect(last.report.byRoute['/pid']['2xx']).toBe(400);
  });

  it('a connection that has sent nothing yet is reported too; stop() leaves no timer', () => {
    vi.useFakeTimers();
    const { stats, sent, connections } = counters();
    connections.n = 1;
    stats.touch();
    vi.advanceTimersByTime(250);
    expect((sent[0] as Extract<WorkerToPrimary, { type: 'stats' }>).report.connections).toBe(1);
    stats.count('/', 200);
    stats.stop();
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
