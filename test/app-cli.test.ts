/**
 * `cluster-demo serve --app` as a user runs it: a real CLI process, real signals, the apps of
 * test/fixtures/apps/ (never edited), and the bad ones, each answered by one line.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServe, type SpawnedServer } from '../src/cluster/spawn.js';
import { runProbe, type ProbeResult } from '../src/probe/run.js';
import type { CompareResult } from '../src/compare/runner.js';
import { statsOverHttp } from '../src/probe/server-counts.js';
import { APPS, stripsTypes } from './apps.js';
import { expectSchema } from './schema.js';
import { descendants, isAlive, lines, processesMatching, request, runCli, waitFor, workerPid } from './helpers.js';

const servers: SpawnedServer[] = [];
const blockers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop('SIGTERM', 5_000)));
  await Promise.all(blockers.splice(0).map((blocker) => new Promise<void>((resolve) => blocker.close(() => resolve()))));
});

async function serveApp(args: string[], env?: NodeJS.ProcessEnv): Promise<SpawnedServer> {
  const server = await spawnServe(['--workers', '2', ...args], { env });
  servers.push(server);
  return server;
}

/** The stats port the primary printed (the dashboard's address, in the ready event). */
function statsBase(server: SpawnedServer): URL {
  const ready = server.events().find((e) => e.type === 'ready');
  expect(ready?.type === 'ready' && ready.dashboardUrl).toBeTruthy();
  return new URL((ready as { dashboardUrl: string }).dashboardUrl.replace(/\/dashboard$/, ''));
}

async function busyPort(): Promise<number> {
  const blocker = net.createServer();
  blockers.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
  return (blocker.address() as net.AddressInfo).port;
}

const NO_STACK_OF_OURS = /at .*\/(dist|src)\//;

describe('serve --app (real CLI process)', () => {
  it("the seed's app.js, verbatim: its own cluster code skipped, its worker branch served on its port 3000, named by our headers", async () => {
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer().once('error', () => resolve(false));
      probe.listen(3000, () => probe.close(() => resolve(true)));
    });
    expect(free, 'the seed app listens on port 3000, which must be free for this test').toBe(true);
    const server = await serveApp(['--app', `${APPS}seed-app.mjs`]);
    expect(server.url).toBe('http://127.0.0.1:3000');
    const replies = await Promise.all(Array.from({ length: 8 }, () => request(server.url, '/pid')));
    for (const reply of replies) expect(reply.body).toBe(`Which PID handled this process: ${workerPid(reply)}`);
    expect(new Set(replies.map(workerPid))).toEqual(new Set(server.readyPids));
    const sum = await request(server.url, '/api/1000');
    expect(sum.body).toBe(`Final count is 500500 at pid: ${workerPid(sum)}`);
    // Its own lines are there (its workers' "started" and "listening"), its primary's are not: it ran as a worker.
    expect(server.output()).toContain('App listening on port 3000');
    expect(server.output()).not.toContain('Primary ');
  });

  it('SIGHUP under load loses nothing; SIGTERM ends every process; the stats port counts what was sent', async () => {
    const server = await serveApp(['--app', `${APPS}express4.cjs`]);
    const before = descendants(server.pid);
    const stats = statsBase(server);
    const hup = setTimeout(() => server.child.kill('SIGHUP'), 400);
    const result = await runProbe({ url: new URL(server.url), paths: ['/users/1'], workers: 2, sched: 'rr', concurrency: 10, durationMs: 2_000, route: 'pid', n: 1, timeoutMs: 10_000, keepAlive: false, retries: 0, reload: false, statsSources: [statsOverHttp(stats)] });
    clearTimeout(hup);
    const route = result.routes[0]!;
    expect(route.failed).toBe(0);
    expect(route.requests).toBeGreaterThan(100);
    // Under load the rolling restart may outlast the 2 s of load: its end is waited for, not assumed.
    const finished = await waitFor('the reload-finished event', () => server.events().find((e) => e.type === 'reload-finished'), 15_000);
    expect(finished.type === 'reload-finished' && finished.replaced).toHaveLength(2);
    // Old and new workers both served, and the server counted every request the probe got an answer to.
    expect(route.workersSeen).toBeGreaterThanOrEqual(3);
    expect(result.serverCounts!.mismatches).toEqual([]);
    const doc = (await (await fetch(new URL('/_cluster/stats', stats))).json()) as unknown;
    expectSchema('cluster-stats', doc);
    const metrics = await (await fetch(new URL('/metrics', stats))).text();
    expect(metrics).toMatch(/cluster_demo_requests_total\{worker_pid="\d+",worker_id="\d+",route="\/users\/1",status="2xx"\} [1-9]/);
    expect((await fetch(new URL('/dashboard', stats))).status).toBe(200);
    const all = [...before, ...descendants(server.pid)];
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(all.filter(isAlive)).toEqual([]);
  });

  it("passes the app's arguments (after --) and environment; the app runs as the main module", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const server = await serveApp(['--app', `${APPS}http.cjs`, '--', '--port', String(port)], { GREETING: 'Hej' });
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect((await request(server.url, '/')).body).toBe('Hej from node:http');
  });

  it('an app with two servers: both addresses reported, the first is the one measured', async () => {
    const server = await serveApp(['--app', `${APPS}bad/two-ports.mjs`]);
    // Ready once every worker listens on its first port; the second may be announced a moment later.
    const urls = await waitFor('both addresses', () => {
      const seen = server.events().flatMap((e) => (e.type === 'app-listening' ? [e.url] : []));
      return seen.length === 2 ? seen : undefined;
    });
    expect(server.url).toBe(urls[0]);
    expect((await request(urls[1]!, '/')).body).toBe('admin');
  });
});

describe('probe --app (the CLI, as a user runs it)', () => {
  it('boots the app clustered, meets every worker on each --path, sets the server\'s count beside each; --json stays one document; nothing left running', async () => {
    const result = await runCli(['probe', '--app', `${APPS}seed-app.mjs`, '--path', '/pid', '--path', '/api/1000', '--workers', '2', '--requests', '200', '--json', '--no-progress'], { timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as ProbeResult;
    expectSchema('probe', doc);
    expect(doc.routes.map((r) => r.route)).toEqual(['/pid', '/api/1000']);
    for (const route of doc.routes) {
      expect(route.workersSeen).toBe(2);
      expect(route.failed).toBe(0);
    }
    expect(doc.allWorkersServed).toBe(true);
    expect(doc.serverCounts!.mismatches).toEqual([]);
    expect(doc.serverCounts!.workers.reduce((sum, c) => sum + c.requests, 0)).toBe(400);
    // The app's own lines went to stderr: stdout is the report alone.
    expect(result.stderr).toContain('App listening on port 3000');
    expect(processesMatching('seed-app.mjs')).toEqual([]);
  });
});

describe('compare --app: will clustering help this app?', () => {
  it('one worker against the cluster on each path, 6 runs alternated, the verdict from the interval; nothing left running', async () => {
    const result = await runCli(['compare', '--app', `${APPS}express4.cjs`, '--path', '/', '--path', '/users/1', '--requests', '200', '--json', '--no-progress'], { timeoutMs: 90_000 });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as CompareResult;
    expectSchema('compare', doc);
    expect(doc.app).toBe(`${APPS}express4.cjs`);
    expect(doc.workloads.map((w) => [w.name, w.path, w.description])).toEqual([['app', '/', 'GET /'], ['app', '/users/1', 'GET /users/1']]);
    for (const w of doc.workloads) {
      expect([w.a.workersSeen, w.b.workersSeen]).toEqual([1, 2]);
      expect(w.a.failed + w.b.failed).toBe(0);
      expect(w.ratioInterval).not.toBeNull();
      expect(['higher', 'lower', 'no-difference']).toContain(w.difference);
    }
    const text = await runCli(['compare', '--app', `${APPS}express4.cjs`, '--requests', '100', '--runs', '1', '--no-progress', '--no-color']);
    expect(text.stdout).toMatch(/^cluster-demo compare: one process vs a cluster of \d+ · your app .*express4\.cjs$/m);
    expect(text.stdout).toMatch(/^\/: the cluster \(policy rr\)/m);
    // Both contenders' primaries and workers are gone (every process of the app names its entry).
    expect(processesMatching('express4.cjs')).toEqual([]);
  });
});

describe('bad apps: one line, exit 1, never a fork loop or a stack trace of ours', () => {
  const serve = (args: string[], timeoutMs = 20_000) => runCli(['serve', '--workers', '2', ...args], { timeoutMs });

  it('an entry that does not exist', async () => {
    const result = await serve(['--app', 'no/such/app.js']);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(/^error: --app no\/such\/app\.js: no such file \(looked for \/.+\/no\/such\/app\.js\)$/)]);
    expect(result.stdout).toBe('');
  });

  it('an app that throws at start: its own error once, then the backoff, then the line', async () => {
    const result = await serve(['--app', `${APPS}bad/throws.mjs`, '--listen-timeout', '1500ms']);
    expect(result.code).toBe(1);
    expect(result.stderr.match(/Error: DATABASE_URL is not set/g)).toHaveLength(1);
    expect(result.stderr).not.toMatch(NO_STACK_OF_OURS);
    expect(lines(result.stderr).at(-1)).toMatch(/^error: .*bad\/throws\.mjs exited before it listened \(\d+ times, the last with code 1\), and its workers were not all listening within 1\.5 s \(--listen-timeout\); its own output is above$/);
    // Respawned with a growing delay, not in a loop: a handful of forks per worker in 1.5 s.
    const forks = result.stdout.match(/^Worker \d+ started/gm) ?? [];
    expect(forks.length).toBeGreaterThan(2);
    expect(forks.length).toBeLessThan(20);
    expect(result.stdout).toMatch(/Forking a replacement in \d+ ms \(backoff/);
  });

  it('an app that exits with code 0 at once', async () => {
    const result = await serve(['--app', `${APPS}bad/exits.mjs`]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr).at(-1)).toMatch(/^error: .*bad\/exits\.mjs exited with code 0 before it listened: an app run with --app must start a server and keep running$/);
  });

  it('an app that never listens, within --listen-timeout', async () => {
    const result = await serve(['--app', `${APPS}bad/silent.mjs`, '--listen-timeout', '1s']);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(/^error: .*bad\/silent\.mjs started but did not listen within 1 s \(0 of 2 workers listened; --listen-timeout sets the wait\)$/)]);
  });

  it('an app whose port is busy', async () => {
    const port = await busyPort();
    const result = await serve(['--app', `${APPS}http.cjs`, '--', '--port', String(port)]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(new RegExp(`^error: .*http\\.cjs cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use — stop what holds it, or give the app another port$`))]);
  });

  it.skipIf(stripsTypes)(`a TypeScript app on a line that cannot strip types (${process.version}): the fix in one line`, async () => {
    const result = await serve(['--app', `${APPS}typed.ts`]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(/^error: .*typed\.ts is TypeScript, and Node v\d+\.\d+\.\d+ cannot strip types: run cluster-demo with Node 22\.18 or newer/)]);
  });

  it("the demo server's flags are refused with --app, and --app's without it (exit 2)", async () => {
    const port = await serve(['--app', `${APPS}http.cjs`, '--port', '8080']);
    expect(port.code).toBe(2);
    expect(lines(port.stderr)[0]).toBe("error: --port is the demo server's; with --app the app chooses its address and protocol");
    const cwd = await serve(['--cwd', '/tmp']);
    expect(cwd.code).toBe(2);
    expect(lines(cwd.stderr)[0]).toBe('error: --cwd is for --app');
  });
});
