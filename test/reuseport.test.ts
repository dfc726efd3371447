/**
 * --sched reuseport: each worker listens on its own SO_REUSEPORT socket (Node ≥ 22.12). These run on the Node
 * lines that have it (the CI matrix runs 22, 24 and 26); on older Node, the one line and exit 2 are checked
 * instead. A file of its own: Node fixes the scheduling policy per process.
 */
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runProbe } from '../src/probe/run.js';
import { renderProbeReport } from '../src/report/probe-report.js';
import { makeChalk } from '../src/report/style.js';
import { findFreePort, startCluster, type RunningCluster } from '../src/cluster/primary.js';
import { readTcpMigrateReq, supportsReusePort } from '../src/cluster/policy.js';
import { spawnServe, type SpawnedServer } from '../src/cluster/spawn.js';
import { lines, request, runCli, waitFor, waitForBusyWorker, workerPid } from './helpers.js';

const MIGRATE_FILE = '/proc/sys/net/ipv4/tcp_migrate_req';
const migrateWritable = (() => {
  try {
    accessSync(MIGRATE_FILE, constants.W_OK);
    return readTcpMigrateReq() !== null;
  } catch {
    return false;
  }
})();

const clusters: RunningCluster[] = [];
const servers: SpawnedServer[] = [];
const closers: Array<() => void> = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.stop()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const close of closers.splice(0)) close();
});

const probeBase = { workers: 3, sched: 'reuseport' as const, concurrency: 20, route: 'pid' as const, n: 1000, timeoutMs: 10_000, keepAlive: false, retries: 0, reload: false };

describe.skipIf(supportsReusePort())(`--sched reuseport on Node ${process.version} (too old)`, () => {
  it('is refused in one line with the Node version needed, exit 2', async () => {
    for (const command of ['serve', 'probe']) {
      const result = await runCli([command, '--sched', 'reuseport']);
      expect(result.code).toBe(2);
      expect(lines(result.stderr)[0]).toBe(
        `error: option '--sched <policy>' argument 'reuseport' is invalid. --sched reuseport needs Node.js 22.12 or newer (23.1+ on the 23 line); this is ${process.version}`,
      );
    }
  });
});

describe.skipIf(!supportsReusePort())(`--sched reuseport on Node ${process.version}`, () => {
  it('3 workers, each on its own socket: all answer over fresh connections', async () => {
    const result = await runProbe({ ...probeBase, requests: 600 });
    expect(result.policy).toBe('reuseport');
    expect(result.tcpMigrateReq).toBe(process.platform === 'linux' ? readTcpMigrateReq() : null);
    expect(result.routes[0]).toMatchObject({ failed: 0, workersSeen: 3, allWorkersServed: true });
    const text = renderProbeReport(result, makeChalk(false));
    expect(text).toContain('(in-process cluster: 3 workers, policy reuseport)');
    expect(text).toContain("a new TCP connection, and the kernel deals them out to the workers' own sockets");
  });

  it('a killed worker is respawned and serves', async () => {
    const running = await startCluster({ port: 0, host: '127.0.0.1', workers: 2, sched: 'reuseport' });
    clusters.push(running);
    const victim = running.killWorker()!;
    await waitFor('a replacement listening', () => {
      const live = running.workers;
      return live.length === 2 && live.every((w) => w.listening) && !live.some((w) => w.pid === victim) ? true : undefined;
    });
    const seen = new Set<number>();
    await waitFor('both live workers answering', async () => {
      seen.add(workerPid(await request(running.url, '/pid')));
      return running.workers.every((w) => seen.has(w.pid)) ? true : undefined;
    });
    expect(seen.has(victim)).toBe(false);
  });

  it('SIGTERM drains: an in-flight request finishes with 200, then exit 0', async () => {
    const server = await spawnServe(['--sched', 'reuseport', '--port', '0', '--workers', '2']);
    servers.push(server);
    const slow = request(server.url, '/api/800000000', { timeoutMs: 20_000 });
    // The signal must land while the request runs (a connection still in a closing socket's queue is another
    // matter: tcp_migrate_req, tested below).
    await waitForBusyWorker(server.readyPids);
    const exit = server.stop('SIGTERM');
    const reply = await slow;
    expect(reply.status).toBe(200);
    expect(await exit).toEqual({ code: 0, signal: null });
  });

  it('a port held by another program, even with SO_REUSEPORT itself: one line and exit 1, no second group of listeners', async () => {
    const port = await findFreePort('127.0.0.1');
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen({ port, host: '127.0.0.1', reusePort: true } as net.ListenOptions, resolve));
    closers.push(() => holder.close());
    const result = await runCli(['serve', '--sched', 'reuseport', '--port', String(port), '--workers', '2']);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([`error: port ${port} is already in use on 127.0.0.1 — choose another with --port`]);
  });

  it.skipIf(!migrateWritable)('SIGHUP-style rolling restart under load: 0 failed with tcp_migrate_req = 1 (set here, then restored)', async () => {
    const before = readFileSync(MIGRATE_FILE, 'utf8');
    writeFileSync(MIGRATE_FILE, '1');
    try {
      const result = await runProbe({ ...probeBase, workers: 2, durationMs: 1500, reload: true });
      expect(result.reload?.replaced).toHaveLength(2);
      expect(result.routes[0]!.failed).toBe(0);
    } finally {
      writeFileSync(MIGRATE_FILE, before);
    }
    expect(readFileSync(MIGRATE_FILE, 'utf8')).toBe(before);
  });
});
