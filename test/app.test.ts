/**
 * A user's own app as the cluster (`--app`): each framework of test/fixtures/apps/ booted as the workers, its
 * responses carrying the worker's identity, the probe meeting every worker, and the server's own per-worker
 * counts equal to what the probe sent; the app never edited, never importing us. Real clusters, real HTTP.
 */
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { IDENTITY_REQUEST_HEADER, IDENTITY_REQUEST_VALUE } from '../src/core/identity.js';
import { startCluster, type RunningCluster } from '../src/cluster/primary.js';
import { runProbe } from '../src/probe/run.js';
import { APPS, stripsTypes } from './apps.js';
import { isAlive, request, workerPid } from './helpers.js';


const clusters: RunningCluster[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((cluster) => cluster.stop()));
});

async function boot(file: string, workers = 2): Promise<RunningCluster> {
  const cluster = await startCluster({ app: { entry: `${APPS}${file}`, stdout: 'stderr' }, workers });
  clusters.push(cluster);
  return cluster;
}

const load = { workers: 2, sched: 'rr' as const, concurrency: 20, requests: 150, route: 'pid' as const, n: 1, timeoutMs: 10_000, keepAlive: false, retries: 0, reload: false, expectWorkers: 2 };

const cases: Array<{ file: string; paths: string[]; skip?: string }> = [
  { file: 'express4.cjs', paths: ['/', '/users/1'] },
  { file: 'express5.mjs', paths: ['/', '/api/items/3'] },
  { file: 'fastify.mjs', paths: ['/', '/users/2'] },
  { file: 'koa.mjs', paths: ['/', '/orders'] },
  { file: 'http.cjs', paths: ['/'] },
  { file: 'esm-cluster.mjs', paths: ['/'] },
  { file: 'typed.ts', paths: ['/'], skip: stripsTypes ? undefined : `Node ${process.version} does not strip types` },
];

describe.each(cases)('--app $file', ({ file, paths, skip }) => {
  it.skipIf(skip !== undefined)(`every response names its worker; the probe meets both; the server counted what was sent (${paths.join(', ')})`, async () => {
    const cluster = await boot(file);
    const pids = cluster.workers.map((w) => w.pid);
    // Identity on every response, also one the app answers with its own 404; the cluster and the host's name only
    // to a request that asks (core/identity.ts), as our own clients do.
    const ask = { [IDENTITY_REQUEST_HEADER]: IDENTITY_REQUEST_VALUE };
    const replies = await Promise.all([...paths, '/no/such/path'].flatMap((path) => [request(cluster.url, path), request(cluster.url, path, { headers: ask })]));
    for (const [i, reply] of replies.entries()) {
      expect(pids).toContain(workerPid(reply));
      expect(Number(reply.headers['x-worker-id'])).toBe(cluster.workers.find((w) => w.pid === workerPid(reply))!.id);
      const asked = i % 2 === 1;
      expect(reply.headers['x-primary-pid']).toBe(asked ? String(process.pid) : undefined);
      expect(reply.headers['x-hostname']).toBe(asked ? os.hostname() : undefined);
    }
    const result = await runProbe({ ...load, url: new URL(cluster.url), paths, statsSources: [() => cluster.stats({ exact: true })] });
    expect(result.routes.map((r) => r.route)).toEqual(paths);
    for (const route of result.routes) {
      expect(route.failed).toBe(0);
      expect(route.workersSeen).toBe(2);
      // The app's own counters, per worker, are what the probe saw per worker.
      const counted = result.serverCounts!.workers.filter((c) => c.route === route.route);
      expect(Object.fromEntries(counted.map((c) => [c.pid, c.requests]))).toEqual(Object.fromEntries(route.workers.map((w) => [w.pid, w.requests])));
    }
    expect(result.serverCounts!.mismatches).toEqual([]);
    const doc = await cluster.stats({ exact: true });
    expect(doc!.totals.requests).toBe(replies.length + paths.length * load.requests);
    expect(doc!.totals.connections).toBeGreaterThanOrEqual(replies.length + paths.length * load.requests);
    await cluster.stop();
    expect(pids.filter(isAlive)).toEqual([]);
  });
});

describe('what the agent cannot do (docs/your-app.md, "Limits")', () => {
  it("Koa's error path removes every header set before it: its 500 carries no identity, and is still counted", async () => {
    const cluster = await boot('koa.mjs', 1);
    const ok = await request(cluster.url, '/');
    const boom = await request(cluster.url, '/boom');
    expect(workerPid(ok)).toBe(cluster.workers[0]!.pid);
    expect(boom.status).toBe(500);
    expect(boom.headers['x-worker-pid']).toBeUndefined();
    const doc = await cluster.stats({ exact: true });
    expect(doc!.workers[0]!.app!.byPath['/boom']!['5xx']).toBe(1);
  });
});
