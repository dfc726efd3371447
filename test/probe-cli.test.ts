/**
 * `cluster-demo probe` through the real binary (dist/cli.js, NO_COLOR=1): the --json document, the table and
 * its verdict, the keep-alive verdict, usage errors (exit 2, one line and a hint) and an unreachable --url
 * (exit 1, one line).
 */
import { describe, expect, it } from 'vitest';
import { findFreePort } from '../src/cluster/primary.js';
import { descendants, isAlive, lines, listeningPort, request, runCli, startCli, waitFor, type CliResult } from './helpers.js';
import { spawnServe } from '../src/cluster/spawn.js';
import { expectSchema } from './schema.js';

const HINT = '(run "cluster-demo probe --help" for usage)';

/** Table rows that name a worker: `│ 12345 │ …`. */
function pidRows(stdout: string): Array<{ pid: number; requests: number }> {
  return lines(stdout)
    .map((line) => /^│\s*(\d+)\s*│\s*([\d,]+)\s*│/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), requests: Number(m[2]!.replace(/,/g, '')) }));
}

function expectNoStack(result: CliResult): void {
  expect(result.stderr).not.toMatch(/^\s{4}at /m);
  expect(result.stdout).not.toMatch(/^\s{4}at /m);
}

describe('probe --json', () => {
  it('prints one JSON document with the documented fields, and nothing else on stdout', async () => {
    const result = await runCli(['probe', '--json', '--route', 'pid', '--requests', '400', '--workers', '2'], { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    expectNoStack(result);
    expect(result.stdout.trimStart().startsWith('{')).toBe(true);
    const doc = JSON.parse(result.stdout) as Record<string, unknown>;
    expectSchema('probe', doc);

    expect(doc.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(doc.workersExpected).toBe(2);
    expect(doc.allWorkersServed).toBe(true);
    expect(Array.isArray(doc.routes)).toBe(true);
    const routes = doc.routes as Array<Record<string, unknown>>;
    expect(routes).toHaveLength(1);

    const route = routes[0]!;
    expect(route.route).toBe('/pid');
    expect(route.requests).toBe(400);
    expect(route.ok).toBe(400);
    expect(route.failed).toBe(0);
    expect(route.errors).toEqual({});
    expect(route.statusCodes).toEqual({ 200: 400 });
    expect(typeof route.rps).toBe('number');
    expect(route.rps as number).toBeGreaterThan(0);
    const latency = route.latencyMs as Record<string, number>;
    for (const key of ['p50', 'p90', 'p99', 'max']) expect(typeof latency[key], `latencyMs.${key}`).toBe('number');
    expect(latency.p50).toBeLessThanOrEqual(latency.p90!);
    expect(latency.p90).toBeLessThanOrEqual(latency.p99!);
    expect(latency.p99).toBeLessThanOrEqual(latency.max!);
    const fairness = route.fairness as Record<string, unknown>;
    expect(typeof fairness.jain).toBe('number');
    expect(typeof fairness.maxMinRatio).toBe('number');

    const workers = route.workers as Array<Record<string, unknown>>;
    expect(workers).toHaveLength(2);
    for (const worker of workers) {
      expect(Number.isInteger(worker.pid)).toBe(true);
      expect(typeof worker.host).toBe('string');
      expect(worker.requests as number).toBeGreaterThan(0);
      expect(typeof worker.share).toBe('number');
      const workerLatency = worker.latencyMs as Record<string, unknown>;
      expect(typeof workerLatency.p50).toBe('number');
      expect(typeof workerLatency.p99).toBe('number');
    }
    expect(new Set(workers.map((w) => w.pid)).size).toBe(2);
    expect(workers.reduce((sum, w) => sum + (w.requests as number), 0)).toBe(400);
  });
});

describe('probe table output', () => {
  it('names both worker PIDs and says that all 2 workers handled traffic', async () => {
    const result = await runCli(['probe', '--route', 'pid', '--requests', '400', '--workers', '2'], { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    expectNoStack(result);
    const rows = pidRows(result.stdout);
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.pid)).size).toBe(2);
    for (const row of rows) expect(row.requests).toBeGreaterThan(0);
    expect(rows.reduce((sum, r) => sum + r.requests, 0)).toBe(400);
    expect(result.stdout).not.toMatch(/unknown/);
    expect(lines(result.stdout)).toContain('✓ all 2 workers handled traffic');
    expect(result.stdout).toMatch(/^Requests: 400 · 400 ok · 0 failed · /m);
    expect(result.stdout).toContain('Each request used a new TCP connection, and the primary hands them to the workers in turn');
  });

  it('--keep-alive --connections 1: one PID, the ✗ verdict and exit code 1', async () => {
    const result = await runCli(['probe', '--keep-alive', '--connections', '1', '--route', 'pid', '--requests', '200', '--workers', '2'], { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(1);
    expectNoStack(result);
    expect(result.stdout).toContain('✗ only 1 of 2 workers handled traffic');
    // The worker that served nothing is the row that matters: it is there, with 0 (and the server's own 0).
    const rows = pidRows(result.stdout);
    expect(rows.map((r) => r.requests).sort((a, b) => a - b)).toEqual([0, 200]);
    expect(new Set(rows.map((r) => r.pid)).size).toBe(2);
    expect(result.stdout).toMatch(/^│ \d+ +│ +0 │ +0 │ +0\.0% │ +│ +– │ +– │$/m);
  });
});

describe('probe usage errors', () => {
  const cases: string[][] = [
    ['--concurrency', '0'],
    ['--concurrency', '-3'],
    ['--concurrency', 'abc'],
    ['--route', 'foo'],
    ['--url', 'notaurl'],
    ['--chaos', '1s', '--url', 'http://127.0.0.1:1'],
  ];

  it.each(cases.map((args) => [args.join(' '), args] as const))('%s → exit 2, one error line and the usage hint, no stack', async (_name, args) => {
    const result = await runCli(['probe', ...args]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const errLines = lines(result.stderr);
    expect(errLines.filter((line) => line.startsWith('error:'))).toHaveLength(1);
    expect(errLines).toEqual([expect.stringMatching(/^error: /), HINT]);
    expectNoStack(result);
  });
});

describe('probe --url with nothing listening', () => {
  it('exits 1 with exactly one line: cannot connect … connection refused', async () => {
    const port = await findFreePort('127.0.0.1');
    const result = await runCli(['probe', '--url', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd()).toBe(`error: cannot connect to http://127.0.0.1:${port}: connection refused`);
  });
});

describe('probe --report', () => {
  it('a path that cannot be written is one line and exit 1, before any request is sent; --report - is refused', async () => {
    const server = await spawnServe(['--port', '0', '--workers', '1']);
    try {
      const result = await runCli(['probe', '--url', server.url, '--report', '/nonexistent/dir/report.html']);
      expect(result.code).toBe(1);
      expect(lines(result.stderr)).toEqual(['error: cannot write the report to /nonexistent/dir/report.html: /nonexistent/dir does not exist']);
      // Nothing reached the server: its own count is still 0.
      const stats = JSON.parse((await request(server.url, '/_cluster/stats')).body) as { totals: { requests: number } };
      expect(stats.totals.requests).toBe(0);
      const dash = await runCli(['probe', '--report', '-']);
      expect(dash.code).toBe(2);
      expect(lines(dash.stderr)[0]).toBe('error: --report writes a file (e.g. --report report.html); stdout stays the report or --json');
    } finally {
      await server.stop();
    }
  });
});

describe('probe Ctrl-C', () => {
  it('stops sending, reports what was measured as interrupted, stops the cluster, exit 130', async () => {
    const cli = startCli(['probe', '--route', 'pid', '--duration', '60s', '--workers', '2', '--no-progress']);
    try {
      const workers = await waitFor('two workers forked', () => (descendants(cli.pid).length === 2 ? descendants(cli.pid) : undefined), 15_000, 50);
      // The load is under way once the cluster's own count says so (a Ctrl-C before that ends start-up instead).
      const port = await waitFor('the cluster to listen', () => listeningPort(cli.pid), 15_000, 20);
      await waitFor('requests served', async () => ((JSON.parse((await request(`http://127.0.0.1:${port}`, '/_cluster/stats')).body) as { totals: { requests: number } }).totals.requests > 0 ? true : undefined), 15_000, 20);
      cli.kill('SIGINT');
      const result = await cli.done;
      expect(result.code).toBe(130);
      expect(result.stdout).toContain('interrupted: the figures cover the requests sent before Ctrl-C');
      expect(result.stdout).toMatch(/^Requests: [\d,]+ · [\d,]+ ok · 0 failed · /m);
      await waitFor('the workers gone', () => (workers.every((pid) => !isAlive(pid)) ? true : undefined), 5_000);
    } finally {
      cli.kill('SIGKILL');
    }
  });
});
