/**
 * A real cluster started in this process with startCluster() (scheduling policy rr, the default, for the
 * whole file: Node fixes it at the first fork), reached over real HTTP on fresh connections.
 */
import nodeCluster from 'node:cluster';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type ClusterEvent, type ClusterOptions, type RunningCluster } from '../src/cluster/primary.js';
import { request, waitFor, waitForBusyWorker, workerPid, type HttpReply } from './helpers.js';

const started: RunningCluster[] = [];

async function boot(options: ClusterOptions = {}): Promise<RunningCluster> {
  const running = await startCluster({ port: 0, host: '127.0.0.1', graceMs: 3_000, ...options });
  started.push(running);
  return running;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((running) => running.stop()));
  // Nothing this file started may outlive a test (node:cluster forgets a worker once it exited and disconnected).
  await waitFor('node:cluster to forget every worker', () => (Object.keys(nodeCluster.workers ?? {}).length === 0 ? true : undefined), 5_000);
});

const sortNum = (values: Iterable<number>) => [...values].sort((a, b) => a - b);

function nodeClusterPids(): number[] {
  return sortNum(Object.values(nodeCluster.workers ?? {}).map((worker) => worker!.process.pid!));
}

/** Fresh-connection GET /pid until `want` distinct pids were seen (or `max` requests). */
async function collectPids(url: string, want: number, max = 60): Promise<{ pids: Set<number>; replies: HttpReply[] }> {
  const pids = new Set<number>();
  const replies: HttpReply[] = [];
  for (let i = 0; i < max && pids.size < want; i++) {
    const reply = await request(url, '/pid');
    replies.push(reply);
    pids.add(workerPid(reply));
  }
  return { pids, replies };
}

describe('startCluster with 3 workers', () => {
  it('every worker answers /pid over fresh connections, and its headers name it', async () => {
    const running = await boot({ workers: 3 });
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    expect(running.primaryPid).toBe(process.pid);

    const workers = running.workers;
    expect(workers).toHaveLength(3);
    expect(workers.every((w) => w.listening)).toBe(true);
    const idByPid = new Map(workers.map((w) => [w.pid, w.id]));

    const { pids, replies } = await collectPids(running.url, 3);
    expect(sortNum(pids)).toEqual(sortNum(idByPid.keys()));
    expect(sortNum(pids)).toEqual(nodeClusterPids());

    for (const reply of replies) {
      const pid = workerPid(reply);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toMatch(/^text\/plain/);
      expect(reply.body).toBe(`Which PID handled this process: ${pid}`);
      expect(reply.headers['x-worker-id']).toBe(String(idByPid.get(pid)));
      expect(nodeCluster.workers?.[String(reply.headers['x-worker-id'])]?.process.pid).toBe(pid);
      expect(reply.headers['x-primary-pid']).toBe(String(process.pid));
      expect(reply.headers['x-hostname']).toBe(os.hostname());
      // A fresh connection per request: the server must not keep it open.
      expect(reply.headers.connection).toBe('close');
    }
    expect(new Set(replies.map((r) => r.headers['x-worker-id'])).size).toBe(3);

    // JSON carries the same facts.
    const json = await request(running.url, '/pid', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(json.body) as Record<string, unknown>;
    expect(body).toEqual({
      pid: workerPid(json),
      workerId: idByPid.get(workerPid(json)),
      primaryPid: process.pid,
      hostname: os.hostname(),
      // The connection as the worker saw it: the client's port tells one connection from another.
      connection: { remoteAddress: '127.0.0.1', remotePort: expect.any(Number), httpVersion: '1.1' },
    });
  });

  it('answers the routes: exact /api/:n, 400 / 404 / 405, JSON, clamping', async () => {
    const running = await boot({ workers: 3, maxN: 1_000_000_000 });
    const pids = new Set(running.workers.map((w) => w.pid));

    const [api, apiJson, clamped, clampedJson] = await Promise.all([
      request(running.url, '/api/1000000000'),
      request(running.url, '/api/1000000000', { headers: { accept: 'application/json' } }),
      request(running.url, '/api/9000000000'),
      request(running.url, '/api/9000000000?x=1', { headers: { accept: 'application/json' } }),
    ]);

    expect(api.status).toBe(200);
    expect(pids.has(workerPid(api))).toBe(true);
    expect(api.body).toBe(`Final count is 500000000500000000 at pid: ${workerPid(api)}`);

    expect(apiJson.status).toBe(200);
    expect(apiJson.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(apiJson.body)).toEqual({
      n: 1_000_000_000,
      count: '500000000500000000',
      clamped: false,
      requested: '1000000000',
      pid: workerPid(apiJson),
      workerId: Number(apiJson.headers['x-worker-id']),
      primaryPid: process.pid,
      hostname: os.hostname(),
      connection: { remoteAddress: '127.0.0.1', remotePort: expect.any(Number), httpVersion: '1.1' },
    });
    expect(pids.has(workerPid(apiJson))).toBe(true);

    expect(clamped.status).toBe(200);
    expect(clamped.body).toBe(
      `Final count is 500000000500000000 at pid: ${workerPid(clamped)} (n clamped from 9000000000 to 1000000000 by --max-n)`,
    );
    expect(JSON.parse(clampedJson.body)).toMatchObject({
      n: 1_000_000_000,
      count: '500000000500000000',
      clamped: true,
      requested: '9000000000',
      pid: workerPid(clampedJson),
    });

    for (const bad of ['abc', '-1', '1.5', '1e3', '0x10', '', '9'.repeat(400)]) {
      const reply = await request(running.url, `/api/${bad}`);
      expect(reply.status, `/api/${bad}`).toBe(400);
      expect(pids.has(workerPid(reply))).toBe(true);
      expect(reply.body.length).toBeLessThan(200);
    }
    const badJson = await request(running.url, '/api/abc', { headers: { accept: 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body)).toMatchObject({ error: expect.stringContaining('digits'), pid: workerPid(badJson) });

    const notFound = await request(running.url, '/nope');
    expect(notFound.status).toBe(404);
    expect(pids.has(workerPid(notFound))).toBe(true);

    const post = await request(running.url, '/pid', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const postApi = await request(running.url, '/api/10', { method: 'DELETE' });
    expect(postApi.status).toBe(405);

    const hello = await request(running.url, '/');
    expect(hello.status).toBe(200);
    expect(hello.body).toBe('Hello World!');
    const head = await request(running.url, '/pid', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(pids.has(workerPid(head))).toBe(true);
  });

  it('respawns a SIGKILLed worker; the replacement serves and the dead pid never answers again', async () => {
    const events: ClusterEvent[] = [];
    const running = await boot({ workers: 3, onEvent: (event) => events.push(event) });
    const before = new Set(running.workers.map((w) => w.pid));
    const victim = running.workers[1]!.pid;

    // Warm up: the victim really serves before it dies.
    const { pids: seenBefore } = await collectPids(running.url, 3);
    expect(seenBefore.has(victim)).toBe(true);

    process.kill(victim, 'SIGKILL');

    const replacement = await waitFor('a listening replacement worker', () => {
      const workers = running.workers;
      if (workers.length !== 3 || !workers.every((w) => w.listening)) return undefined;
      if (workers.some((w) => w.pid === victim)) return undefined;
      return workers.find((w) => !before.has(w.pid))?.pid;
    });
    expect(before.has(replacement)).toBe(false);
    const livePids = sortNum(running.workers.map((w) => w.pid));
    expect(livePids).not.toContain(victim);
    await waitFor('node:cluster to list exactly the live workers', () =>
      JSON.stringify(nodeClusterPids()) === JSON.stringify(livePids) ? true : undefined,
    );
    expect(() => process.kill(victim, 0)).toThrow(/ESRCH/);

    const died = events.find((e) => e.type === 'worker-died' && e.pid === victim);
    expect(died).toMatchObject({ type: 'worker-died', signal: 'SIGKILL' });
    expect(events.some((e) => e.type === 'worker-respawning' && e.afterPid === victim)).toBe(true);

    // The replacement takes traffic; the dead pid never shows up again.
    const { pids: seenAfter, replies } = await collectPids(running.url, 3);
    expect(seenAfter.has(replacement)).toBe(true);
    const more = await Promise.all(Array.from({ length: 30 }, () => request(running.url, '/pid')));
    for (const reply of [...replies, ...more]) {
      expect(reply.status).toBe(200);
      expect(workerPid(reply)).not.toBe(victim);
      expect(reply.body).toBe(`Which PID handled this process: ${workerPid(reply)}`);
    }
    expect(sortNum(new Set([...seenAfter, ...more.map(workerPid)]))).toEqual(sortNum(running.workers.map((w) => w.pid)));
  });
});

describe('cluster.stats({ exact: true }): the read the probe cross-checks against', () => {
  it('counts every answered request, also those of workers busy when it is read (the 150 ms scrape flush cannot)', async () => {
    const running = await boot({ workers: 2 });
    const pids = running.workers.map((w) => w.pid);
    const N = 40;
    await Promise.all(Array.from({ length: N }, () => request(running.url, '/pid')));
    // Both workers now compute for over a second: a flush asked now is answered only after that, and the counts
    // of the N requests above may not have reached the primary yet (they go out on the next 250 ms tick).
    const heavy = [request(running.url, '/api/1500000000', { timeoutMs: 30_000 }), request(running.url, '/api/1500000000', { timeoutMs: 30_000 })];
    await waitForBusyWorker(pids);
    const scrape = await running.stats();
    const exact = await running.stats({ exact: true });
    const counted = (doc: typeof exact) => (doc?.workers ?? []).filter((w) => pids.includes(w.pid)).reduce((sum, w) => sum + w.byRoute['/pid']['2xx'], 0);
    expect(counted(exact)).toBe(N);
    expect(counted(scrape)).toBeLessThanOrEqual(N);
    for (const reply of await Promise.all(heavy)) expect(reply.status).toBe(200);
  });
});
