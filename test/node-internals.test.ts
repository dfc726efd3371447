/**
 * The Node internals the tool leans on, checked on whatever Node runs the suite (`npm run test:matrix` runs it
 * on 20, 22, 24 and 26): the engine's raw TCP transport must really be used, not silently replaced by its
 * net.Socket fallback; and the primary's hand-off tracking (node:cluster's internal `newconn`/ack messages)
 * must still close connections handed to a worker that died before taking them.
 */
import nodeCluster from 'node:cluster';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRawTcp } from '../src/node-internals/raw-tcp.js';
import { runProbe } from '../src/probe/run.js';
import { startCluster, type ClusterEvent, type RunningCluster } from '../src/cluster/primary.js';
import { fileURLToPath } from 'node:url';
import { request, waitFor } from './helpers.js';

const HOLD_CHANNEL = fileURLToPath(new URL('./fixtures/hold-channel.cjs', import.meta.url));

const started: RunningCluster[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((running) => running.stop()));
  await waitFor('node:cluster to forget every worker', () => (Object.keys(nodeCluster.workers ?? {}).length === 0 ? true : undefined), 5_000);
});

describe(`Node internals on ${process.version}`, () => {
  it("libuv's TCP handle bindings are there, and a probe really sends over them", async () => {
    expect(loadRawTcp(), `process.binding('tcp_wrap'/'stream_wrap') changed on ${process.version}: the engine falls back to net.Socket`).toBeDefined();
    const result = await runProbe({ workers: 2, sched: 'rr', concurrency: 8, requests: 200, route: 'pid', n: 1_000, timeoutMs: 5_000, keepAlive: false, retries: 0, reload: false });
    expect(result.routes[0]!.transport).toBe('raw');
    expect(result.routes[0]!.failed).toBe(0);
    expect(result.notices.join('\n')).not.toContain('falls back');
  });

  it('a connection handed to a worker that dies before taking it is closed (a reset), not left hanging', async () => {
    const events: ClusterEvent[] = [];
    const cluster = await startCluster({ port: 0, host: '127.0.0.1', workers: 2, sched: 'rr', onEvent: (e) => events.push(e) });
    started.push(cluster);
    const [frozen] = cluster.workers;
    // A stopped worker never reads its IPC channel, so every connection the primary hands it stays unacknowledged.
    process.kill(frozen!.pid, 'SIGSTOP');
    const t0 = Date.now();
    let settledCount = 0;
    const outcomes = Array.from({ length: 6 }, () =>
      request(cluster.url, '/pid', { timeoutMs: 8_000 })
        .then(
          (reply) => ({ ok: true as const, status: reply.status, at: Date.now() - t0 }),
          (err: Error) => ({ ok: false as const, error: err.message, at: Date.now() - t0 }),
        )
        .finally(() => settledCount++),
    );
    // node:cluster's round robin hands a connection to a worker only once it acknowledged the previous one:
    // the frozen worker gets one and never acknowledges it; the live worker answers the other five.
    await waitFor('the live worker to answer the rest', () => (settledCount >= 5 ? true : undefined), 5_000);
    expect(settledCount).toBe(5);
    process.kill(frozen!.pid, 'SIGKILL');
    const settled = await Promise.all(outcomes);
    const failed = settled.filter((o) => !o.ok);
    expect(failed.length).toBeGreaterThan(0);
    // Closed by the primary when the worker died, long before the 8 s client timeout.
    for (const outcome of failed) {
      expect(outcome.error).not.toMatch(/timed out/);
      expect(outcome.at).toBeLessThan(5_000);
    }
    const closed = events.filter((e) => e.type === 'handoffs-closed');
    expect(closed).toEqual([expect.objectContaining({ pid: frozen!.pid, count: failed.length })]);
  });

  it('a worker whose exit is seen before its channel ends: connections handed to it in between are closed too', async () => {
    // Until its channel ends, node:cluster keeps a dead worker that was free on rr's free list, and hands it new
    // connections; none of them is ever acknowledged. They arrive after the exit's clean-up, so the primary closes
    // them when the channel ends (its 'disconnect'), instead of leaving their clients hanging.
    const outcomes: Array<Promise<{ ok: boolean; error?: string; at: number }>> = [];
    let t0 = 0;
    let deadPid = 0;
    const events: ClusterEvent[] = [];
    const cluster = await startCluster({
      port: 0, host: '127.0.0.1', workers: 2, sched: 'rr', workerExecArgv: ['--require', HOLD_CHANNEL],
      onEvent: (e) => {
        events.push(e);
        // The helper holds the dead worker's channel 300 ms past its death: these connections come in that window.
        if (e.type === 'worker-died' && e.pid === deadPid) {
          t0 = Date.now();
          for (let i = 0; i < 6; i++) {
            outcomes.push(request(cluster.url, '/pid', { timeoutMs: 8_000 }).then(
              () => ({ ok: true, at: Date.now() - t0 }),
              (err: Error) => ({ ok: false, error: err.message, at: Date.now() - t0 }),
            ));
          }
        }
      },
    });
    started.push(cluster);
    deadPid = cluster.workers[0]!.pid;
    process.kill(deadPid, 'SIGKILL');
    await waitFor('the requests sent after the death', () => (outcomes.length === 6 ? true : undefined), 5_000);
    const settled = await Promise.all(outcomes);
    // The survivor answers its share; the dead worker's share is reset when its channel ends, long before 8 s.
    expect(settled.filter((o) => o.ok).length).toBeGreaterThan(0);
    for (const outcome of settled) {
      expect(outcome.error ?? '').not.toMatch(/timed out/);
      expect(outcome.at).toBeLessThan(3_000);
    }
    // The dead worker was idle, so on rr's free list: one of the six was handed to it (and it never became free again).
    const late = settled.filter((o) => !o.ok).length;
    expect(late).toBe(1);
    const closed = events.filter((e) => e.type === 'handoffs-closed' && e.pid === deadPid).reduce((n, e) => n + (e.type === 'handoffs-closed' ? e.count : 0), 0);
    expect(closed).toBe(late);
  });

  it('after many deaths and respawns, node:cluster holds only the live workers (no dead Worker objects kept)', async () => {
    const cluster = await startCluster({ port: 0, host: '127.0.0.1', workers: 2, sched: 'rr' });
    started.push(cluster);
    const bothListening = () => (cluster.workers.length === 2 && cluster.workers.every((w) => w.listening) ? true : undefined);
    for (let kill = 0; kill < 6; kill++) {
      await waitFor('both workers listening', bothListening, 5_000);
      cluster.killWorker();
    }
    await waitFor('both workers listening', bothListening, 5_000);
    const live = cluster.workers.map((w) => w.pid).sort((a, b) => a - b);
    await waitFor('node:cluster to drop the dead workers', () => (Object.keys(nodeCluster.workers ?? {}).length === 2 ? true : undefined), 2_000);
    expect(Object.values(nodeCluster.workers ?? {}).map((w) => w!.process.pid).sort((a, b) => a! - b!)).toEqual(live);
  });

  it('a worker that dies holding an unacknowledged hand-off, its exit seen before its channel ends, is forgotten', async () => {
    // Node never emits 'disconnect' for such a worker (it waits for an ACK a dead process cannot send), so
    // node:cluster would keep it for good; the primary gives it the 'disconnect' once its process has closed.
    const cluster = await startCluster({ port: 0, host: '127.0.0.1', workers: 2, sched: 'rr', workerExecArgv: ['--require', HOLD_CHANNEL] });
    started.push(cluster);
    const [frozen] = cluster.workers;
    process.kill(frozen!.pid, 'SIGSTOP');
    let settledCount = 0;
    const outcomes = Array.from({ length: 4 }, () => request(cluster.url, '/pid', { timeoutMs: 8_000 }).catch(() => undefined).finally(() => settledCount++));
    // The frozen worker holds one unacknowledged connection; the live worker answers the other three.
    await waitFor('the live worker to answer the rest', () => (settledCount >= 3 ? true : undefined), 5_000);
    process.kill(frozen!.pid, 'SIGKILL');
    await Promise.all(outcomes);
    await waitFor('a replacement listening', () => (cluster.workers.length === 2 && cluster.workers.every((w) => w.listening && w.pid !== frozen!.pid) ? true : undefined), 5_000);
    const live = cluster.workers.map((w) => w.pid).sort((a, b) => a - b);
    // The helper lets the channel end 300 ms after the death; node:cluster must let go of the dead worker then.
    await waitFor('node:cluster to drop the dead worker', () => (Object.keys(nodeCluster.workers ?? {}).length === 2 ? true : undefined), 3_000);
    expect(Object.values(nodeCluster.workers ?? {}).map((w) => w!.process.pid).sort((a, b) => a! - b!)).toEqual(live);
  });
});
