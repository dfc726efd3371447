/**
 * Row 7d: what counting one request costs the worker, in this process, with nothing else around it: the worker's
 * request handler as `serve` builds it with stats on (a WorkerStats counter, the stats routes' check, and the
 * connection's touch, as for a new connection per request) against the same handler with stats off, each called
 * `calls` times in a row on a fake GET /pid whose response methods do nothing. ns per call = the handler's
 * whole path; the difference per pair = what counting adds. The report the worker sends every 250 ms while
 * active (memory, CPU, event-loop use, one IPC message) is timed apart: it is paid per tick, not per request.
 */
import { performance } from 'node:perf_hooks';
import { createStatsRoutes } from '../../src/cluster/counts/endpoints.js';
import { WorkerStats } from '../../src/cluster/counts/worker-stats.js';
import { createRequestHandler, DEFAULT_MAX_N, type DemoListener } from '../../src/cluster/handler.js';

type FakeRequest = Parameters<DemoListener>[0];
type FakeResponse = Parameters<DemoListener>[1];

const request = {
  url: '/pid',
  method: 'GET',
  headers: { host: '127.0.0.1', accept: '*/*' },
  httpVersion: '1.1',
  httpVersionMajor: 1,
  socket: { remoteAddress: '127.0.0.1', remotePort: 40000 },
} as unknown as FakeRequest;

let sink = 0;
const response = {
  writeHead(status: number) {
    sink += status;
    return this;
  },
  end(body: string) {
    sink += body.length;
  },
} as unknown as FakeResponse;

export interface CountingSides {
  on: () => void;
  off: () => void;
  /** One report as the tick builds it (without the IPC send). */
  report: () => void;
  stop: () => void;
}

export function countingSides(): CountingSides {
  const identity = { pid: process.pid, workerId: 1, primaryPid: process.ppid, hostname: 'bench' };
  const stats = new WorkerStats(() => {}, { connections: () => 0, inFlight: () => 0 });
  const routes = createStatsRoutes(stats, () => {});
  const counted = createRequestHandler({ identity, maxN: DEFAULT_MAX_N, counter: stats, statsRoutes: routes });
  const plain = createRequestHandler({ identity, maxN: DEFAULT_MAX_N });
  return {
    on: () => {
      stats.touch();
      counted(request, response);
    },
    off: () => plain(request, response),
    report: () => {
      sink += stats.report().connections;
    },
    stop: () => stats.stop(),
  };
}

/** ns per call of `fn`, over `calls` calls in a row. */
export function nsPerCall(fn: () => void, calls: number): number {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return ((performance.now() - t0) * 1e6) / calls;
}

/** Keeps the optimizer from dropping the calls (their results land here). */
export function counted(): number {
  return sink;
}
