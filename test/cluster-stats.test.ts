/**
 * The cluster's own counts, gathered by the primary: real `cluster-demo serve` processes (one per policy: Node
 * fixes the policy per process), real HTTP over fresh connections on 127.0.0.1.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../src/load/engine.js';
import { supportsReusePort } from '../src/cluster/policy.js';
import { spawnServe, type SpawnedServer } from '../src/cluster/spawn.js';
import type { ClusterStatsDoc } from '../src/cluster/counts/document.js';
import { request, waitFor, workerPid } from './helpers.js';
import { expectSchema } from './schema.js';

const servers: SpawnedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGTERM', 10_000)));
});

async function serve(args: string[]): Promise<SpawnedServer> {
  const server = await spawnServe(['--port', '0', ...args]);
  servers.push(server);
  return server;
}

async function stats(url: string): Promise<ClusterStatsDoc> {
  const reply = await request(url, '/_cluster/stats');
  expect(reply.status).toBe(200);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  const doc = JSON.parse(reply.body) as ClusterStatsDoc;
  expectSchema('cluster-stats', doc);
  return doc;
}

/** cluster_demo_requests_total per worker pid (summed over routes and status classes), from one scrape. */
function requestsPerPid(metrics: string): Map<number, number> {
  const perPid = new Map<number, number>();
  for (const match of metrics.matchAll(/^cluster_demo_requests_total\{worker_pid="(\d+)",worker_id="\d+",route="([^"]+)",status="\dxx"\} (\d+)$/gm)) {
    if (match[2] === 'other') continue;
    perPid.set(Number(match[1]), (perPid.get(Number(match[1])) ?? 0) + Number(match[3]));
  }
  return perPid;
}

const policies = ['rr', 'none', ...(supportsReusePort() ? ['reuseport'] : [])];

describe('GET /_cluster/stats: the primary counts what every worker answered', () => {
  for (const policy of policies) {
    it(`--sched ${policy}: after N requests over new connections the workers' requests add up to N`, async () => {
      const server = await serve(['--workers', '2', '--sched', policy]);
      const N = 300;
      const recording = await runLoad({ target: new URL(server.url), path: '/pid', concurrency: 10, requests: N, keepAlive: false, timeoutMs: 10_000, retries: 0 });
      expect(recording.collector.ok).toBe(N);
      const doc = await stats(server.url);
      expect(doc).toMatchObject({ primaryPid: server.pid, policy, totals: { requests: N } });
      const live = doc.workers.filter((w) => w.state === 'listening');
      expect(live.map((w) => w.pid).sort()).toEqual([...server.readyPids].sort());
      expect(live.reduce((sum, w) => sum + w.requests, 0)).toBe(N);
      // Per worker, exactly what the client saw from it.
      for (const tally of recording.collector.workers.values()) expect(live.find((w) => w.pid === tally.pid)?.requests).toBe(tally.requests);
      // The stats request itself is not counted, whichever worker answered it.
      expect((await stats(server.url)).totals.requests).toBe(N);
    });
  }
});

describe('GET /metrics: right under cluster, whichever worker answers', () => {
  it('20 scrapes on new connections list every worker, and no counter ever goes down', async () => {
    const server = await serve(['--workers', '3']);
    let previous = new Map<number, number>();
    const answeredBy = new Set<number>();
    for (let scrape = 0; scrape < 20; scrape++) {
      await runLoad({ target: new URL(server.url), path: '/pid', concurrency: 5, requests: 30, keepAlive: false, timeoutMs: 10_000, retries: 0 });
      const reply = await request(server.url, '/metrics');
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      answeredBy.add(workerPid(reply));
      const current = requestsPerPid(reply.body);
      expect([...current.keys()].sort()).toEqual([...server.readyPids].sort());
      for (const [pid, count] of current) expect(count, `worker ${pid} at scrape ${scrape}`).toBeGreaterThanOrEqual(previous.get(pid) ?? 0);
      const total = Number(/^cluster_demo_cluster_requests_total (\d+)$/m.exec(reply.body)?.[1]);
      expect(total).toBe((scrape + 1) * 30);
      previous = current;
    }
    // Several workers answered the scrapes, and every one gave the same, cluster-wide, picture.
    expect(answeredBy.size).toBeGreaterThan(1);
  });
});

describe('lifecycle in the stats', () => {
  it('a SIGKILLed worker shows as exited, its replacement as forked into the same slot with restarts 1', async () => {
    const server = await serve(['--workers', '2']);
    const [victim, survivor] = server.readyPids as [number, number];
    await Promise.all(Array.from({ length: 20 }, () => request(server.url, '/pid')));
    const before = await stats(server.url);
    const victimBefore = before.workers.find((w) => w.pid === victim)!;
    process.kill(victim, 'SIGKILL');
    const doc = await waitFor('the replacement listening in the stats', async () => {
      // Right after the kill, rr may still hand this request's connection to the dead worker: a reset, try again.
      const d = await stats(server.url).catch(() => undefined);
      return d?.workers.some((w) => w.state === 'listening' && w.pid !== survivor && w.pid !== victim) ? d : undefined;
    });
    const dead = doc.workers.find((w) => w.pid === victim)!;
    expect(dead).toMatchObject({ state: 'exited', exit: { signal: 'SIGKILL', code: null }, restarts: 0, slot: victimBefore.slot });
    const replacement = doc.workers.find((w) => w.state === 'listening' && w.pid !== survivor)!;
    expect(replacement).toMatchObject({ slot: victimBefore.slot, restarts: 1 });
    expect(doc.workers.find((w) => w.pid === survivor)).toMatchObject({ restarts: 0 });
    expect(doc.events).toContainEqual(expect.objectContaining({ type: 'worker-died', pid: victim, signal: 'SIGKILL' }));
    expect(doc.events).toContainEqual(expect.objectContaining({ type: 'worker-started', pid: replacement.pid }));
    // The dead worker's requests stay in the cluster's total.
    expect(doc.totals.requests).toBeGreaterThanOrEqual(before.totals.requests);
    const metrics = (await request(server.url, '/metrics')).body;
    expect(metrics).toContain(`cluster_demo_worker_restarts_total{slot="${victimBefore.slot}"} 1`);
  });

  it('/_cluster/events: a snapshot at once, then each lifecycle event as it happens', async () => {
    const server = await serve(['--workers', '2']);
    const received: Array<{ event: string; data: { type?: string; pid?: number; workers?: unknown[] } }> = [];
    let streamPid: number | undefined;
    const req = http.get(`${server.url}/_cluster/events`, { agent: false }, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      streamPid = Number(res.headers['x-worker-pid']);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.+)$/m.exec(message)?.[1];
          const data = /^data: (.+)$/m.exec(message)?.[1];
          if (event && data) received.push({ event, data: JSON.parse(data) });
        }
      });
    });
    req.on('error', () => undefined);
    try {
      const first = await waitFor('the first snapshot', () => received.find((m) => m.event === 'snapshot'));
      expect(first.data.workers).toHaveLength(2);
      // The other worker: the one serving this stream would take the stream with it.
      const victim = server.readyPids.find((pid) => pid !== streamPid)!;
      process.kill(victim, 'SIGKILL');
      await waitFor('the worker-died lifecycle event', () => received.find((m) => m.event === 'lifecycle' && m.data.type === 'worker-died' && m.data.pid === victim));
      await waitFor('a second snapshot a second later', () => (received.filter((m) => m.event === 'snapshot').length >= 2 ? true : undefined), 3_000);
    } finally {
      req.destroy();
    }
  });
});

describe('where the stats routes answer', () => {
  it('off on a non-loopback bind unless --stats; --no-stats turns them off anywhere', async () => {
    const exposed = await serve(['--workers', '1', '--host', '0.0.0.0']);
    for (const path of ['/_cluster/stats', '/metrics', '/_cluster/events', '/dashboard']) expect((await request(exposed.url, path)).status).toBe(404);
    expect((await request(exposed.url, '/pid')).status).toBe(200);

    const asked = await serve(['--workers', '1', '--host', '0.0.0.0', '--stats']);
    expect((await request(asked.url, '/_cluster/stats')).status).toBe(200);

    const off = await serve(['--workers', '1', '--no-stats']);
    expect((await request(off.url, '/metrics')).status).toBe(404);
    expect(off.events().find((e) => e.type === 'ready')).toMatchObject({ dashboardUrl: null });
  });

  it('the document names no environment, arguments or paths', async () => {
    const server = await serve(['--workers', '1', '--name', 'web-1']);
    const body = (await request(server.url, '/_cluster/stats')).body;
    expect(JSON.parse(body)).toMatchObject({ hostname: 'web-1' });
    for (const secret of [process.cwd(), process.execPath, 'CLUSTER_DEMO_WORKER_CONFIG', '--workers', process.env.HOME ?? '/root']) expect(body).not.toContain(secret);
  });
});
