/**
 * The real `cluster-demo serve` in child processes: real signals, real ports, real HTTP on 127.0.0.1.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServeLogLine, type ServeLogEvent } from '../src/cluster/serve-log.js';
import { spawnServe, type SpawnedServer } from '../src/cluster/spawn.js';
import { expectSchema } from './schema.js';
import { binPath, lines, request, runCli, waitFor, waitForBusyWorker, workerPid } from './helpers.js';

const servers: SpawnedServer[] = [];
const blockers: net.Server[] = [];

async function serve(args: string[]): Promise<SpawnedServer> {
  const server = await spawnServe(['--port', '0', '--host', '127.0.0.1', ...args]);
  servers.push(server);
  return server;
}

afterEach(async () => {
  // SIGTERM (graceful, SIGKILL after 5 s) whatever is still running, on failure too.
  await Promise.all(servers.splice(0).map((server) => server.stop('SIGTERM', 5_000)));
  await Promise.all(blockers.splice(0).map((blocker) => new Promise<void>((resolve) => blocker.close(() => resolve()))));
});

/** The PIDs of the workers forked so far, from the JSON log. */
function startedPids(events: ServeLogEvent[]): number[] {
  return events.flatMap((e) => (e.type === 'worker-started' ? [e.pid] : []));
}

function logEvents(stdout: string): ServeLogEvent[] {
  return lines(stdout).flatMap((line) => parseServeLogLine(line) ?? []);
}

const NO_STACK = /^\s+at\s|\n\s+at\s/;

describe('cluster-demo serve (real CLI process)', () => {
  it('exits 1 with one clear line when the port is in use', async () => {
    const blocker = net.createServer();
    blockers.push(blocker);
    await new Promise<void>((resolve, reject) => {
      blocker.once('error', reject);
      blocker.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (blocker.address() as net.AddressInfo).port;

    const result = await runCli(['serve', '--port', String(port), '--host', '127.0.0.1', '--workers', '2', '--log', 'json']);

    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    const errLines = lines(result.stderr);
    expect(errLines).toHaveLength(1);
    expect(errLines[0]).toContain(`port ${port} is already in use on 127.0.0.1 — choose another with --port`);
    expect(result.stderr).not.toMatch(NO_STACK);
    // Checked before anything forks: the log holds the start-failed event and nothing else (no fork, no exit).
    const events = logEvents(result.stdout);
    expect(events).toEqual([expect.objectContaining({ type: 'start-failed', message: errLines[0]!.replace(/^error: /, '') })]);
    // The human log too: the one error line, no lifecycle lines before it.
    const human = await runCli(['serve', '--port', String(port), '--host', '127.0.0.1', '--workers', '2']);
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(lines(human.stderr)).toEqual([errLines[0]]);
    // The blocker still owns the port, untouched.
    expect(blocker.listening).toBe(true);
  });

  it('SIGTERM lets an in-flight /api/2000000000 finish with the exact sum, then exits 0', async () => {
    const server = await serve(['--workers', '2']);
    expect(new URL(server.url).hostname).toBe('127.0.0.1');

    let settled = false;
    const inFlight = request(server.url, '/api/2000000000', { timeoutMs: 30_000 }).finally(() => (settled = true));
    inFlight.catch(() => {}); // awaited below; never an unhandled rejection if an assertion fails first
    await waitForBusyWorker(server.readyPids);
    // Otherwise the test would prove nothing about in-flight requests.
    expect(settled, 'the request finished before SIGTERM was sent').toBe(false);
    server.child.kill('SIGTERM');

    const reply = await inFlight;
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(`Final count is 2000000001000000000 at pid: ${workerPid(reply)}`);
    expect(startedPids(server.events())).toContain(workerPid(reply));

    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const events = server.events();
    expect(events).toContainEqual(expect.objectContaining({ type: 'signal', signal: 'SIGTERM', repeated: false }));
    expect(events.at(-1)).toMatchObject({ type: 'stopped', exitCode: 0 });
    expect(events.some((e) => e.type === 'worker-killed')).toBe(false);
  });

  it('SIGHUP under continuous fresh-connection load: zero failed requests, then only new workers answer', async () => {
    const server = await serve(['--workers', '2']);
    const oldPids = new Set(startedPids(server.events()));
    expect(oldPids.size).toBe(2);

    const failures: string[] = [];
    const seen: Array<{ pid: number; afterDone: boolean }> = [];
    let done = false;
    let stopLoad = false;
    const loadDeadline = Date.now() + 10_000;

    async function loop(): Promise<void> {
      while (!stopLoad && Date.now() < loadDeadline) {
        try {
          const reply = await request(server.url, '/pid', { timeoutMs: 5_000 });
          if (reply.status !== 200 || reply.body !== `Which PID handled this process: ${workerPid(reply)}`) {
            failures.push(`status ${reply.status}: ${reply.body}`);
          } else {
            seen.push({ pid: workerPid(reply), afterDone: done });
          }
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    }

    const loops = Array.from({ length: 4 }, () => loop());
    let finished: Extract<ServeLogEvent, { type: 'reload-finished' }> | undefined;
    try {
      // Load is flowing, served by the original workers, before the reload starts.
      await waitFor('load served by both original workers', () =>
        new Set(seen.map((s) => s.pid)).size === 2 ? true : undefined,
      );
      expect(seen.every((s) => oldPids.has(s.pid))).toBe(true);

      server.child.kill('SIGHUP');
      finished = await waitFor('the reload-finished event', () => server.events().find((e) => e.type === 'reload-finished'), 9_000);
      done = true;
      // Keep the load going a little past the reload, so requests after it are covered too.
      await waitFor('20 requests after the reload', () => (seen.filter((s) => s.afterDone).length >= 20 ? true : undefined), 5_000);
    } finally {
      stopLoad = true;
      await Promise.all(loops);
    }

    expect(failures).toEqual([]);
    expect(server.child.exitCode).toBeNull();

    // Every old worker was replaced by a new one.
    const pairs = finished!.replaced;
    expect(new Set(pairs.map((p) => p.oldPid))).toEqual(oldPids);
    const newPids = new Set(pairs.map((p) => p.newPid));
    expect(newPids.size).toBe(2);
    for (const pid of newPids) expect(oldPids.has(pid)).toBe(false);
    for (const { oldPid, newPid } of pairs) {
      expect(server.events()).toContainEqual(expect.objectContaining({ type: 'worker-started', pid: newPid, replacing: oldPid }));
      expect(server.events()).toContainEqual(expect.objectContaining({ type: 'reload-replaced', oldPid, newPid }));
    }

    // Every request was answered by an old or a new worker; the requests after the reload by new ones only.
    for (const s of seen) expect(oldPids.has(s.pid) || newPids.has(s.pid)).toBe(true);

    const sample = await Promise.all(Array.from({ length: 30 }, () => request(server.url, '/pid')));
    for (const reply of sample) {
      expect(reply.status).toBe(200);
      expect(oldPids.has(workerPid(reply))).toBe(false);
      expect(newPids.has(workerPid(reply))).toBe(true);
    }
    expect(new Set(sample.map(workerPid))).toEqual(newPids);

    // The reloaded server still stops cleanly.
    expect(await server.stop('SIGTERM', 10_000)).toEqual({ code: 0, signal: null });
  });
});

describe('serve --log json', () => {
  it('one JSON object per line: start, a SIGKILLed worker and its respawn, a SIGHUP reload, a SIGTERM stop', async () => {
    const server = await serve(['--workers', '2']);
    expect(server.events()[0]).toMatchObject({ type: 'primary-started', pid: server.pid, workers: 2, policy: 'rr' });
    expect(server.events().find((e) => e.type === 'ready')).toMatchObject({ url: server.url, pids: server.readyPids });

    const [victim] = server.readyPids;
    process.kill(victim!, 'SIGKILL');
    const died = await waitFor('the worker-died event', () => server.events().find((e) => e.type === 'worker-died'));
    expect(died).toMatchObject({ pid: victim, signal: 'SIGKILL', code: null });
    const replacement = await waitFor('the replacement to listen', () => server.events().find((e): e is Extract<ServeLogEvent, { type: 'worker-listening' }> => e.type === 'worker-listening' && !server.readyPids.includes(e.pid)));
    expect(server.events()).toContainEqual(expect.objectContaining({ type: 'worker-respawning', afterPid: victim }));

    server.child.kill('SIGHUP');
    const reloaded = await waitFor('the reload-finished event', () => server.events().find((e) => e.type === 'reload-finished'), 15_000);
    expect(reloaded.type === 'reload-finished' && reloaded.replaced.map((r) => r.oldPid).sort()).toEqual([server.readyPids[1]!, replacement.pid].sort());

    expect(await server.stop('SIGTERM', 10_000)).toEqual({ code: 0, signal: null });
    const types = server.events().map((e) => e.type);
    expect(types.at(-1)).toBe('stopped');
    expect(types.slice(types.indexOf('signal', types.indexOf('reload-finished'))).filter((t) => t === 'worker-exited')).toHaveLength(2);
    // Nothing but JSON on stdout (stderr is empty: no error happened).
    const stdout = lines(server.output());
    expect(stdout.every((line) => parseServeLogLine(line) !== undefined)).toBe(true);
    for (const line of stdout) expectSchema('serve-log', JSON.parse(line));
    expect(stdout).toHaveLength(server.events().length);
  });
});

describe('cluster-demo CLI smoke', () => {
  const serveOptions = ['--port', '--host', '--workers', '--sched', '--max-n', '--grace'];

  it('--help exits 0 and lists the serve command', async () => {
    const result = await runCli(['--help'], { script: binPath });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: cluster-demo/m);
    expect(result.stdout).toMatch(/^\s+serve\b/m);
    expect(result.stderr).toBe('');
  });

  it('serve --help exits 0 and lists every serve option', async () => {
    const result = await runCli(['serve', '--help'], { script: binPath });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: cluster-demo serve/m);
    for (const option of serveOptions) expect(result.stdout).toContain(option);
    expect(result.stdout).toContain('SIGHUP');
    expect(result.stderr).toBe('');
  });

  it('serve --workers 0 exits 2 with one error line and no stack trace', async () => {
    const result = await runCli(['serve', '--workers', '0', '--port', '0'], { script: binPath });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const errLines = lines(result.stderr);
    const errors = errLines.filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('--workers');
    expect(errors[0]).toContain('"0"');
    // At most the error plus commander's one-line usage hint.
    expect(errLines.length).toBeLessThanOrEqual(2);
    expect(errLines.filter((line) => !line.startsWith('error:')).every((line) => line.startsWith('(run "cluster-demo'))).toBe(true);
    expect(result.stderr).not.toMatch(NO_STACK);
    expect(result.stdout + result.stderr).not.toContain('Worker');
  });
});
