/**
 * Resilience you can watch (issue 5): workers SIGKILLed under load (`probe --chaos`), a rolling restart under
 * load (`probe --reload`), and a primary that survives workers failing at start-up after it was healthy.
 * Real clusters on 127.0.0.1 with port 0; every cluster is stopped before the next test.
 */
import nodeCluster from 'node:cluster';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Chalk } from 'chalk';
import { afterEach, describe, expect, it } from 'vitest';
import { probeExitCode, runProbe, type ProbeOptions, type ProbeResult } from '../src/probe/run.js';
import { renderProbeJson, renderProbeReport } from '../src/report/probe-report.js';
import { formatClusterEvent } from '../src/report/cluster-log.js';
import { formatInt } from '../src/report/style.js';
import { DEFAULT_BACKOFF, startCluster, type ClusterEvent, type RunningCluster } from '../src/cluster/primary.js';
import { binPath, request, runCli, waitFor, workerPid } from './helpers.js';

const started: RunningCluster[] = [];
const cleanups: Array<() => void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await Promise.all(started.splice(0).map((running) => running.stop()));
  // Nothing a test started may outlive it (runProbe stops its own cluster).
  await waitFor('node:cluster to forget every worker', () => (Object.keys(nodeCluster.workers ?? {}).length === 0 ? true : undefined), 5_000);
});

const plain = new Chalk({ level: 0 });
const sortNum = (values: Iterable<number>) => [...values].sort((a, b) => a - b);

const base: ProbeOptions = {
  workers: 3,
  sched: 'rr',
  concurrency: 20,
  route: 'pid',
  n: 1_000,
  timeoutMs: 5_000,
  keepAlive: false,
  retries: 0,
  reload: false,
};

/** Connection errors a kill can cause; anything else (timeouts, HTTP errors) would be a real bug. */
const KILL_CAUSES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'closed before response']);

function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** What every chaos result must satisfy, with or without retries. */
function checkChaosResult(result: ProbeResult): void {
  const route = result.routes[0]!;
  const chaos = result.chaos!;
  expect(chaos).not.toBeNull();
  expect(chaos.intervalMs).toBeGreaterThan(0);
  expect(route.requests).toBe(route.ok + route.failed);
  // Failures are counted by cause and attributed, none thrown away.
  expect(Object.values(route.errors).reduce((a, b) => a + b, 0)).toBe(route.failed);
  for (const cause of Object.keys(route.errors)) expect(KILL_CAUSES, `failure cause ${cause}`).toContain(cause);
  expect(chaos.deaths.reduce((sum, d) => sum + d.failedRequests, 0) + chaos.unattributedFailures).toBe(route.failed);
  expect(probeExitCode(result)).toBe(route.failed > 0 ? 1 : 0);

  const deadPids = chaos.deaths.map((d) => d.pid);
  expect(new Set(deadPids).size).toBe(deadPids.length);
  for (const death of chaos.deaths) {
    expect(death.cause).toBe('chaos');
    expect(isDead(death.pid), `worker ${death.pid} reported dead`).toBe(true);
    // Every death has a replacement that listened (runProbe waits for the last ones before it stops).
    expect(death.replacementPid, `replacement of ${death.pid}`).toEqual(expect.any(Number));
    expect(deadPids.slice(0, deadPids.indexOf(death.pid))).not.toContain(death.replacementPid);
    expect(death.replacementMs).toBeGreaterThan(0);
    expect(death.replacementMs).toBeLessThan(5_000);
  }
  // The final workers are alive and are the last replacements, not dead ones.
  expect(result.finalPids).toHaveLength(result.workersExpected!);
  for (const pid of result.finalPids) expect(deadPids).not.toContain(pid);

  // JSON names the dead and their replacements; the table marks them.
  const json = JSON.parse(renderProbeJson(result)) as ProbeResult;
  expect(json.chaos!.deaths.map((d) => d.pid)).toEqual(deadPids);
  expect(json.chaos!.deaths.map((d) => d.replacementPid)).toEqual(chaos.deaths.map((d) => d.replacementPid));
  const text = renderProbeReport(result, plain);
  for (const death of chaos.deaths) expect(text).toContain(`† ${death.pid} at `);
  for (const worker of route.workers) if (deadPids.includes(worker.pid!)) expect(text).toMatch(new RegExp(`│ ${worker.pid} † `));
}

describe('probe --chaos', () => {
  it('with --retries 1: nothing fails, replacements take traffic, and the result names the dead', async () => {
    const result = await runProbe({ ...base, workers: 3, durationMs: 2_000, chaosMs: 350, retries: 1 });
    checkChaosResult(result);
    const route = result.routes[0]!;
    expect(route.failed).toBe(0);
    expect(result.allOk).toBe(true);
    expect(probeExitCode(result)).toBe(0);
    expect(route.ok).toBeGreaterThan(500);

    const deaths = result.chaos!.deaths;
    expect(deaths.length).toBeGreaterThanOrEqual(3);
    // More distinct PIDs answered than there are workers: the replacements served.
    const answered = new Set(route.workers.map((w) => w.pid));
    expect(answered.size).toBeGreaterThan(3);
    expect(route.workersSeen).toBeGreaterThan(3);
    for (const pid of answered) expect(pid).toEqual(expect.any(Number));
    // Some of the dead served before they died, some replacements served after.
    expect(deaths.some((d) => answered.has(d.pid))).toBe(true);
    expect(deaths.some((d) => answered.has(d.replacementPid))).toBe(true);
    // Retries are counted apart from failures: every request is ok or failed, whatever it took to get there.
    expect(route.requests).toBe(route.ok + route.failed);
    const text = renderProbeReport(result, plain);
    // The Requests line itself: "0 failed" alone also matches "10 failed", and a death's "0 failed requests in flight".
    expect(text).toContain(`Requests: ${formatInt(route.requests)} · ${formatInt(route.ok)} ok · 0 failed`);
    // Retried requests are said exactly when there were some (a kill usually costs one or two).
    expect(text.includes(' retried'), text).toBe(route.retries > 0);
    if (route.retries > 0) expect(text).toContain(`${formatInt(route.retries)} retried`);
  });

  it('without retries: failures are counted, attributed to the killed workers, and the exit code is 1', async () => {
    // A kill usually costs a request or two (those handed to the worker as it died); a run may cost none,
    // so up to three short runs, each checked in full, until failures have been seen.
    let result: ProbeResult | undefined;
    for (let run = 0; run < 3; run++) {
      result = await runProbe({ ...base, workers: 3, durationMs: 1_200, chaosMs: 250, retries: 0 });
      checkChaosResult(result);
      if (result.routes[0]!.failed > 0) break;
    }
    const route = result!.routes[0]!;
    expect(route.failed).toBeGreaterThan(0);
    expect(route.retries).toBe(0);
    expect(result!.allOk).toBe(false);
    expect(probeExitCode(result!)).toBe(1);
    // Attributed where the timing allows: at least one death carries failures.
    expect(result!.chaos!.deaths.some((d) => d.failedRequests > 0)).toBe(true);
    expect(renderProbeReport(result!, plain)).toMatch(new RegExp(`${route.failed} failed \\(`));
  });

  it('is a usage error with --url (exit 2)', async () => {
    const cli = await runCli(['probe', '--url', 'http://127.0.0.1:1', '--chaos', '1s'], { script: binPath });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/--chaos/);
    expect(cli.stdout).toBe('');
  });
});

describe('probe --reload', () => {
  it('replaces every worker under load with zero failed requests', async () => {
    const result = await runProbe({ ...base, workers: 2, requests: 400, concurrency: 10, reload: true });
    const route = result.routes[0]!;
    expect(route.failed).toBe(0);
    expect(route.ok).toBeGreaterThanOrEqual(400);
    expect(probeExitCode(result)).toBe(0);

    const reload = result.reload!;
    expect(reload).not.toBeNull();
    expect(reload.replaced).toHaveLength(2);
    expect(sortNum(reload.replaced.map((r) => r.oldPid))).toEqual(result.initialPids);
    expect(sortNum(reload.replaced.map((r) => r.newPid))).toEqual(result.finalPids);
    expect(result.initialPids).toHaveLength(2);
    expect(result.finalPids).toHaveLength(2);
    for (const pid of result.finalPids) expect(result.initialPids).not.toContain(pid);
    for (const pid of result.initialPids) expect(isDead(pid)).toBe(true);
    // Only old and new workers answered, and the new ones did.
    const answered = route.workers.map((w) => w.pid!);
    for (const pid of answered) expect([...result.initialPids, ...result.finalPids]).toContain(pid);
    expect(answered.some((pid) => result.finalPids.includes(pid))).toBe(true);
    expect(renderProbeReport(result, plain)).toContain(`Rolling restart during the run`);
  });
});

describe('the primary survives its own faults', () => {
  it('stops promptly when a replacement is still starting up (no wait for the grace period)', async () => {
    const graceMs = 8_000;
    let armed = false;
    let stopped: Promise<{ exitCode: number; ms: number }> | undefined;
    let running: RunningCluster | undefined;
    const onEvent = (event: ClusterEvent) => {
      // The replacement is up (online) but not listening yet: its message handler does not exist yet.
      if (armed && event.type === 'worker-started' && running && !stopped) {
        const t0 = Date.now();
        stopped = running.stop().then((result) => ({ exitCode: result.exitCode, ms: Date.now() - t0 }));
      }
    };
    running = await startCluster({ port: 0, host: '127.0.0.1', workers: 2, graceMs, backoff: { initialMs: 0 }, onEvent });
    started.push(running);
    armed = true;
    process.kill(running.workers[0]!.pid, 'SIGKILL');
    await waitFor('stop() during the replacement start-up', () => stopped, 10_000);
    const { exitCode, ms } = await stopped!;
    expect(exitCode).toBe(0);
    expect(ms).toBeLessThan(graceMs / 2);
  });

  it('respawns a worker that fails at start-up after the cluster was healthy, with growing backoff, logging each event once', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-marker-'));
    const marker = path.join(dir, 'fail');
    process.env.CLUSTER_DEMO_TEST_FAIL_MARKER = marker;
    cleanups.push(() => {
      delete process.env.CLUSTER_DEMO_TEST_FAIL_MARKER;
      rmSync(dir, { recursive: true, force: true });
    });
    const fixture = pathToFileURL(fileURLToPath(new URL('./fixtures/fail-after-marker.mjs', import.meta.url))).href;
    const events: ClusterEvent[] = [];
    const backoff = { initialMs: 50, factor: 1.5 };
    const running = await startCluster({
      port: 0,
      host: '127.0.0.1',
      workers: 2,
      graceMs: 3_000,
      backoff,
      workerExecArgv: ['--import', fixture],
      onEvent: (event) => events.push(event),
    });
    started.push(running);

    // Healthy: both workers serve.
    const initial = running.workers;
    expect(initial).toHaveLength(2);
    const [victim, survivor] = initial as [(typeof initial)[0], (typeof initial)[0]];
    expect((await request(running.url, '/pid')).status).toBe(200);

    // From now on every new worker exits with code 1 at start-up. The victim crashes.
    writeFileSync(marker, '');
    process.kill(victim.pid, 'SIGKILL');

    const respawnsForSlot = () => events.filter((e): e is Extract<ClusterEvent, { type: 'worker-respawning' }> => e.type === 'worker-respawning' && e.slot === victim.slot);
    await waitFor('four respawns of the crashed slot (the crash and three failed starts)', () => (respawnsForSlot().length >= 4 ? true : undefined), 10_000);

    // Not fatal: the primary carries on, the survivor serves throughout.
    expect(events.some((e) => e.type === 'stopped' || e.type === 'shutdown-started')).toBe(false);
    const during = await Promise.all(Array.from({ length: 5 }, () => request(running.url, '/pid')));
    for (const reply of during) {
      expect(reply.status).toBe(200);
      expect(workerPid(reply)).toBe(survivor.pid);
    }

    // Fix the "deploy": the next respawn starts and serves.
    rmSync(marker);
    const replacement = await waitFor(
      'a replacement listening in the crashed slot',
      () => running.workers.find((w) => w.slot === victim.slot && w.listening && w.pid !== victim.pid),
      10_000,
    );
    await waitFor('the replacement to answer', async () => {
      const reply = await request(running.url, '/pid');
      return workerPid(reply) === replacement.pid ? reply : undefined;
    });
    expect(sortNum(running.workers.map((w) => w.pid))).toEqual(sortNum([survivor.pid, replacement.pid]));
    expect(running.workers.every((w) => w.listening)).toBe(true);

    // The backoff grew: initialMs × factor^k for each quick death of the slot.
    const delays = respawnsForSlot().map((e) => e.delayMs);
    const expected = delays.map((_, k) => Math.min(DEFAULT_BACKOFF.maxMs, Math.round(backoff.initialMs * backoff.factor ** k)));
    expect(delays.slice(0, 4)).toEqual([50, 75, 113, 169]);
    expect(delays).toEqual(expected);

    // The deaths: the crash (SIGKILL), then only start-up failures (exit code 1), each a different pid.
    const died = events.filter((e): e is Extract<ClusterEvent, { type: 'worker-died' }> => e.type === 'worker-died');
    expect(died[0]).toMatchObject({ pid: victim.pid, signal: 'SIGKILL' });
    expect(died.length).toBe(delays.length);
    for (const death of died.slice(1)) {
      expect(death).toMatchObject({ code: 1, signal: null, slot: victim.slot });
      expect(death.pid).not.toBe(survivor.pid);
    }
    expect(new Set(died.map((d) => d.pid)).size).toBe(died.length);
    // Each respawn follows its own death.
    expect(respawnsForSlot().map((e) => e.afterPid)).toEqual(died.map((d) => d.pid));
    // The survivor never died.
    expect(died.some((d) => d.pid === survivor.pid)).toBe(false);
    expect(isDead(survivor.pid)).toBe(false);

    // `serve`'s log: one line per event, each death logged exactly once.
    const log = events.flatMap((event) => formatClusterEvent(event));
    for (const death of died) {
      expect(log.filter((line) => line.startsWith(`Worker ${death.pid} died`)), `died lines for ${death.pid}`).toHaveLength(1);
    }
    expect(log).toContain(`Worker ${victim.pid} died (SIGKILL)`);
    for (const death of died.slice(1)) expect(log).toContain(`Worker ${death.pid} died (exit code 1)`);
    expect(log.filter((line) => line.startsWith('Forking a replacement in 50 ms'))).toHaveLength(1);
    expect(log).toContain('Forking a replacement in 75 ms (backoff: it died soon after starting)');
    expect(log.filter((line) => line.startsWith('listening on '))).toHaveLength(1);
    for (const event of events) expect(formatClusterEvent(event).length).toBeLessThanOrEqual(event.type === 'primary-started' ? 4 : event.type === 'ready' ? 2 : 1);

    // Still a healthy cluster: a short burst all answered by the two live workers.
    const after = await Promise.all(Array.from({ length: 10 }, () => request(running.url, '/pid')));
    for (const reply of after) expect([survivor.pid, replacement.pid]).toContain(workerPid(reply));
  });
});
