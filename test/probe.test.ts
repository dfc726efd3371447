/**
 * runProbe() and runLoad() in this process against real clusters on loopback: the in-process cluster (which
 * runProbe starts and stops itself), a cluster from startCluster() for the two close-mode transports, and
 * the seed's Express cluster (test/fixtures/seed-cluster.mjs) in a child process for --url, where the PID is
 * only in the body. Scheduling policy rr for the whole file: Node fixes it at the first fork.
 */
import nodeCluster from 'node:cluster';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad, type LoadRecording, type Transport } from '../src/load/engine.js';
import { loadRawTcp } from '../src/node-internals/raw-tcp.js';
import type { RouteReport } from '../src/load/summary.js';
import { probeExitCode, runProbe, type ProbeOptions } from '../src/probe/run.js';
import { findFreePort, startCluster, type RunningCluster } from '../src/cluster/primary.js';
import { spawnServer, type SpawnedServer } from '../src/cluster/spawn.js';
import { isAlive, waitFor } from './helpers.js';

const SEED_FIXTURE = fileURLToPath(new URL('./fixtures/seed-cluster.mjs', import.meta.url));

const base: ProbeOptions = {
  workers: 4,
  sched: 'rr',
  concurrency: 50,
  route: 'pid',
  n: 200_000,
  timeoutMs: 10_000,
  keepAlive: false,
  retries: 0,
  reload: false,
};

const clusters: RunningCluster[] = [];
const servers: SpawnedServer[] = [];

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((running) => running.stop()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  // Nothing a test started may outlive it: runProbe stops its own cluster, the others are stopped above.
  await waitFor('node:cluster to forget every worker', () => (Object.keys(nodeCluster.workers ?? {}).length === 0 ? true : undefined), 5_000);
});

const sortNum = (values: Iterable<number>) => [...values].sort((a, b) => a - b);

/** A route where every response named its worker: `workers` distinct PIDs, each with some requests. */
function expectEveryWorkerServed(route: RouteReport, workers: number, requests: number): number[] {
  expect(route.requests).toBe(requests);
  expect(route.ok).toBe(requests);
  expect(route.failed).toBe(0);
  expect(route.errors).toEqual({});
  expect(route.statusCodes).toEqual({ 200: requests });
  expect(route.workers.some((w) => w.pid === null), 'an "unknown" row: some response named no PID').toBe(false);
  const pids = route.workers.map((w) => w.pid!);
  expect(new Set(pids).size).toBe(workers);
  for (const worker of route.workers) expect(worker.requests, `worker ${worker.pid}`).toBeGreaterThan(0);
  expect(route.workers.reduce((sum, w) => sum + w.requests, 0)).toBe(requests);
  expect(route.workers.reduce((sum, w) => sum + w.share, 0)).toBeCloseTo(1, 3);
  expect(route.workersSeen).toBe(workers);
  expect(route.allWorkersServed).toBe(true);
  expect(route.fairness.maxMinRatio).not.toBeNull();
  expect(route.fairness.jain).toBeGreaterThan(1 / workers);
  expect(route.fairness.jain).toBeLessThanOrEqual(1);
  return sortNum(pids);
}

describe('runProbe against the in-process cluster (a new connection per request)', () => {
  it('/pid: 1000 requests at concurrency 50 reach all 4 workers', async () => {
    const result = await runProbe({ ...base, requests: 1000 });
    expect(result.inProcess).toBe(true);
    expect(result.policy).toBe('rr');
    expect(result.workersExpected).toBe(4);
    expect(result.keepAlive).toBe(false);
    expect(result.connections).toBeNull();
    expect(result.routes).toHaveLength(1);
    const route = result.routes[0]!;
    expect(route.route).toBe('/pid');
    expect(route.path).toBe('/pid');
    const pids = expectEveryWorkerServed(route, 4, 1000);
    expect(pids).toEqual(result.initialPids);
    expect(result.finalPids).toEqual(result.initialPids);
    expect(route.workers.every((w) => w.primaryPid === process.pid && w.host === os.hostname())).toBe(true);
    expect(result.allWorkersServed).toBe(true);
    expect(result.allOk).toBe(true);
    expect(probeExitCode(result)).toBe(0);
    // runProbe stopped its cluster: the workers are gone.
    await waitFor('the probe workers to exit', () => (pids.every((pid) => !isAlive(pid)) ? true : undefined), 5_000);
  });

  it('/api/:n: 200 requests reach all 4 workers', async () => {
    const result = await runProbe({ ...base, route: 'api', requests: 200 });
    expect(result.routes).toHaveLength(1);
    const route = result.routes[0]!;
    expect(route.route).toBe('/api/:n');
    expect(route.path).toBe('/api/200000');
    expect(expectEveryWorkerServed(route, 4, 200)).toEqual(result.initialPids);
    expect(result.allWorkersServed).toBe(true);
    expect(probeExitCode(result)).toBe(0);
  });

  it('keep-alive over one connection: exactly one PID, so not every worker served (exit code 1)', async () => {
    const result = await runProbe({ ...base, workers: 2, keepAlive: true, connections: 1, requests: 200 });
    expect(result.keepAlive).toBe(true);
    expect(result.connections).toBe(1);
    const route = result.routes[0]!;
    expect(route.ok).toBe(200);
    expect(route.failed).toBe(0);
    // Both workers are rows: the one that served every request, and the silent one with 0.
    expect(route.workers).toHaveLength(2);
    const served = route.workers.filter((w) => w.requests > 0);
    expect(served).toHaveLength(1);
    expect(served[0]!.pid).not.toBeNull();
    expect(result.initialPids).toContain(served[0]!.pid);
    expect(route.workers.find((w) => w.requests === 0)).toMatchObject({ share: 0, latencyMs: { p50: null, p99: null } });
    expect(served[0]!.requests).toBe(200);
    expect(served[0]!.share).toBe(1);
    expect(route.workersSeen).toBe(1);
    expect(route.fairness).toEqual({ jain: 0.5, maxMinRatio: null, hosts: { jain: 1, maxMinRatio: 1 } });
    expect(route.allWorkersServed).toBe(false);
    expect(result.allWorkersServed).toBe(false);
    expect(result.allOk).toBe(true);
    expect(probeExitCode(result)).toBe(1);
  });
});

describe('runLoad transports against a cluster from startCluster()', () => {
  async function loadWith(transport: Transport, running: RunningCluster, path: string, requests: number): Promise<LoadRecording> {
    return runLoad({ target: new URL(running.url), path, concurrency: 20, requests, keepAlive: false, timeoutMs: 10_000, retries: 0, transport });
  }

  function expectCountsPerPid(recording: LoadRecording, running: RunningCluster, requests: number): void {
    const c = recording.collector;
    expect(c.completed).toBe(requests);
    expect(c.ok).toBe(requests);
    expect(c.failed).toBe(0);
    expect(Object.fromEntries(c.statusCodes)).toEqual({ 200: requests });
    const counts = c.countsByPid();
    expect(counts.some((entry) => entry.pid === null)).toBe(false);
    expect(sortNum(counts.map((entry) => entry.pid!))).toEqual(sortNum(running.workers.map((w) => w.pid)));
    for (const entry of counts) expect(entry.requests, `worker ${entry.pid}`).toBeGreaterThan(0);
    expect(counts.reduce((sum, entry) => sum + entry.requests, 0)).toBe(requests);
    // Each tally's latency histogram holds exactly its own requests.
    for (const tally of c.workers.values()) {
      expect(tally.latency.count).toBe(tally.requests);
      expect(tally.primaryPid).toBe(process.pid);
      expect(tally.host).toBe(os.hostname());
    }
    expect(c.latency.count).toBe(requests);
  }

  for (const transport of ['net', 'raw'] as const) {
    it(`transport ${transport}: per-PID counts add up to the requests and name exactly the cluster's workers`, async () => {
      if (transport === 'raw') expect(loadRawTcp(), 'the raw libuv transport is unavailable on this Node').toBeDefined();
      const running = await startCluster({ port: 0, host: '127.0.0.1', workers: 3, sched: 'rr', graceMs: 3_000 });
      clusters.push(running);
      expectCountsPerPid(await loadWith(transport, running, '/pid', 300), running, 300);
      expectCountsPerPid(await loadWith(transport, running, '/api/100000', 90), running, 90);
    });
  }
});

describe("--url against the seed's Express cluster (PIDs only in the body)", () => {
  async function startSeed(workers: number): Promise<{ server: SpawnedServer; workerPids: number[] }> {
    const port = await findFreePort('127.0.0.1');
    const server = await spawnServer(SEED_FIXTURE, [], { env: { WORKERS: String(workers), PORT: String(port) }, readyTimeoutMs: 15_000 });
    servers.push(server);
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    const workerPids = sortNum(server.readyPids);
    expect(workerPids).toHaveLength(workers);
    expect(server.events().filter((e) => e.type === 'ready')).toHaveLength(1);
    return { server, workerPids };
  }

  it('finds every worker PID in the body for /pid and /api/:n', async () => {
    const { server, workerPids } = await startSeed(2);
    try {
      const result = await runProbe({ ...base, url: new URL(server.url), expectWorkers: 2, route: 'both', requests: 200 });
      expect(result.inProcess).toBe(false);
      expect(result.policy).toBeNull();
      expect(result.target).toBe(server.url);
      expect(result.workersExpected).toBe(2);
      expect(result.initialPids).toEqual([]);
      expect(result.routes.map((r) => r.route)).toEqual(['/pid', '/api/:n']);
      for (const route of result.routes) {
        expect(expectEveryWorkerServed(route, 2, 200)).toEqual(workerPids);
        // No identity headers: host and primary are unknown, never made up.
        expect(route.workers.every((w) => w.host === null && w.primaryPid === null)).toBe(true);
      }
      expect(result.routes[1]!.path).toBe('/api/200000');
      expect(result.allWorkersServed).toBe(true);
      expect(probeExitCode(result)).toBe(0);
    } finally {
      await server.stop();
    }
    // The seed has no signal handling: its workers leave when the primary's IPC channel closes.
    await waitFor('the seed workers to exit with their primary', () => (workerPids.every((pid) => !isAlive(pid)) ? true : undefined), 5_000);
  });

  it('without --expect-workers the count is reported but not judged', async () => {
    const { server, workerPids } = await startSeed(2);
    const result = await runProbe({ ...base, url: new URL(server.url), route: 'pid', requests: 100 });
    expect(result.workersExpected).toBeNull();
    expect(result.allWorkersServed).toBeNull();
    const route = result.routes[0]!;
    expect(route.allWorkersServed).toBeNull();
    expect(sortNum(route.workers.map((w) => w.pid!))).toEqual(workerPids);
    expect(probeExitCode(result)).toBe(0);
  });

  it('both close-mode transports read the PID from the body', async () => {
    const { server, workerPids } = await startSeed(2);
    for (const transport of ['net', 'raw'] as const) {
      const recording = await runLoad({ target: new URL(server.url), path: '/pid', concurrency: 10, requests: 100, keepAlive: false, timeoutMs: 10_000, retries: 0, transport });
      expect(recording.collector.ok, transport).toBe(100);
      const counts = recording.collector.countsByPid();
      expect(sortNum(counts.map((entry) => entry.pid!)), transport).toEqual(workerPids);
      expect(counts.reduce((sum, entry) => sum + entry.requests, 0)).toBe(100);
    }
    // Keep-alive (undici) also reads it from the body.
    const keepAlive = await runLoad({ target: new URL(server.url), path: '/api/1000', concurrency: 1, requests: 20, keepAlive: true, connections: 1, timeoutMs: 10_000, retries: 0 });
    expect(keepAlive.collector.ok).toBe(20);
    const [only, ...rest] = keepAlive.collector.countsByPid();
    expect(rest).toEqual([]);
    expect(workerPids).toContain(only!.pid);
  });
});
