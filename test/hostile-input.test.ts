/**
 * A careless or hostile user, through the real binary: numbers past what a run can use, report paths that cannot
 * be written, contradictory or ignored flags, credentials in a URL, Ctrl-C during start-up, a closed stdout, and
 * verdicts of ✗ that must not exit 0. Each case: its exit code, its one line, no stack, nothing left running.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeExitCode, type ProbeResult } from '../src/probe/run.js';
import { renderProbeReport } from '../src/report/probe-report.js';
import { makeChalk } from '../src/report/style.js';
import { spawnServe, type SpawnedServer } from '../src/cluster/spawn.js';
import { cliEntryPath } from '../src/cluster/spawn.js';
import { nginx } from './external.js';
import { descendants, isAlive, lines, request, runCli, waitFor, type CliResult } from './helpers.js';

function expectOneErrorLine(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/^\s{4}at /m);
  const errors = lines(result.stderr).filter((line) => line.startsWith('error:'));
  expect(errors, result.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
}

describe('numbers past what a run can use: one line, exit 2, before anything starts', () => {
  const cases: Array<[string[], RegExp]> = [
    [['serve', '--workers', '99999999999'], /--workers .* "max" or a whole number from 1 to 256 \(got "99999999999"\)/],
    [['probe', '--workers', '99999999999'], /from 1 to 256/],
    [['compare', '--workers', '99999999999'], /from 1 to 256/],
    [['browser', '--tabs', '99999999999'], /--tabs .* from 1 to 32/],
    [['browser', '--fetches', '99999999999'], /--fetches .* from 1 to 256/],
    [['fleet', '--hosts', '300'], /--hosts .* from 1 to 16/],
    [['probe', '--concurrency', '1000000'], /--concurrency .* from 1 to 10,000/],
    [['serve', '--headers-timeout', '301'], /from 0 to 300 \(Node's request timeout\)/],
    [['serve', '--grace', '3000000'], /--grace .* from 0 to 3,600/],
    [['probe', '--chaos', '3000000s'], /--chaos .* at most 24h/],
    [['probe', '--chaos', '500'], /Needs a unit: say 500ms or 500s/],
    [['compare', '--timeout', '30000'], /Needs a unit: say 30000ms or 30000s/],
  ];
  it.each(cases.map(([args, line]) => [args.join(' '), args, line] as const))('%s', async (_name, args, line) => {
    expectOneErrorLine(await runCli(args), 2, line);
  });
});

describe('flags that would be ignored or expose something: one line, exit 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [['serve', '--host', ''], /--host .* Must be an address/],
    [['serve', '--stats', '--no-stats'], /--stats and --no-stats contradict each other/],
    [['probe', '--url', 'http://127.0.0.1:1', '--workers', '3'], /--workers sizes the in-process cluster/],
    [['browser', '--url', 'http://127.0.0.1:1', '--workers', '3'], /--workers sizes the in-process cluster/],
    [['compare', '--connections', '4'], /--connections is the keep-alive side of --keepalive-vs-close/],
  ];
  it.each(cases.map(([args, line]) => [args.join(' '), args, line] as const))('%s', async (_name, args, line) => {
    expectOneErrorLine(await runCli(args), 2, line);
  });

  it('a password in --url is refused and never printed', async () => {
    const result = await runCli(['probe', '--url', 'http://alice:s3cret@127.0.0.1:1']);
    expectOneErrorLine(result, 2, /Must not carry a user name or password: .*\(got "http:\/\/\*\*\*@127\.0\.0\.1:1"\)/);
    expect(result.stderr).not.toContain('s3cret');
    expect(result.stderr).not.toContain('alice');
  });
});

describe('--report that cannot be written: one line, exit 1, before any load', () => {
  for (const file of ['/proc/nope.html', '/dev/full', '/sys/nope.html']) {
    it.runIf(process.platform === 'linux')(`probe --report ${file}`, async () => {
      const result = await runCli(['probe', '--report', file, '--workers', '1']);
      expectOneErrorLine(result, 1, new RegExp(`^error: cannot write the report to ${file}: (no file can be created in /proc|it is not a regular file|permission denied)$`));
    });
  }
});

describe('a bad CHROME_PATH is named, not passed over', () => {
  it('exit 1 and the line says CHROME_PATH', async () => {
    const result = await runCli(['browser'], { env: { CHROME_PATH: '/nonexistent/chrome' } });
    expectOneErrorLine(result, 1, /^error: CHROME_PATH=\/nonexistent\/chrome is not an executable file/);
  });
});

describe('✗ is a failing exit', () => {
  const servers: SpawnedServer[] = [];
  const plain: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop('SIGTERM', 10_000)));
    for (const server of plain.splice(0)) server.close();
  });

  it('a run that reached no worker (nothing sent in -d 0.4ms, as a slow machine does): exit 1', () => {
    const recorded = JSON.parse(readFileSync(new URL('./fixtures/results/probe.json', import.meta.url), 'utf8')) as ProbeResult;
    expect(probeExitCode(recorded)).toBe(0);
    const nothingSent = { ...recorded, workersExpected: null, allWorkersServed: null, routes: recorded.routes.map((r) => ({ ...r, requests: 0, ok: 0, failed: 0, workersSeen: 0, workers: [] })) };
    expect(probeExitCode(nothingSent)).toBe(1);
    expect(renderProbeReport(nothingSent, makeChalk(false))).toContain('✗ 0 distinct workers handled traffic');
  });

  it('a server that answers 302 without saying who it is: ✗, exit 1', async () => {
    const server = http.createServer((_req, res) => res.writeHead(302, { location: '/elsewhere' }).end('Found'));
    plain.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const result = await runCli(['probe', '--url', url, '--route', 'pid', '--requests', '20', '--no-progress']);
    expect(result.stdout).toContain('✗ 0 distinct workers handled traffic');
    expect(result.code).toBe(1);
  });
});

/** The CLI in a process group of its own, so that a signal reaches it and its workers as a terminal's Ctrl-C does. */
function startGroup(args: string[]): { pid: number; output: () => string; stderr: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [cliEntryPath(), ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { pid: child.pid!, output: () => out, stderr: () => err, done };
}

describe('Ctrl-C during start-up: exit 130, one line at most, nothing left', () => {
  const cases: Array<{ args: string[]; line: RegExp | null; needs?: string }> = [
    { args: ['serve', '--port', '0', '--workers', '12', '--log', 'json'], line: null },
    { args: ['probe', '--workers', '12'], line: /^interrupted: the cluster was stopped$/ },
    { args: ['compare', '--workers', '12'], line: /^interrupted: every server was stopped; nothing to compare yet$/ },
    { args: ['fleet', '--hosts', '8', '--workers', '2'], line: /^interrupted: nginx and every instance were stopped$/, needs: nginx.path === undefined ? 'nginx' : undefined },
  ];
  for (const { args, line, needs } of cases) {
    it.skipIf(needs !== undefined)(args.slice(0, 3).join(' '), async () => {
      const cli = startGroup(args);
      let seen: number[] = [];
      try {
        // A worker (or a child server) exists, not every one is up: start-up is under way.
        await waitFor('start-up to be under way', () => ((seen = descendants(cli.pid)).length >= 2 ? true : undefined), 20_000, 5);
        process.kill(-cli.pid, 'SIGINT');
        expect(await cli.done).toBe(130);
      } finally {
        if (isAlive(cli.pid)) process.kill(-cli.pid, 'SIGKILL');
      }
      expect(cli.stderr()).not.toMatch(/^\s{4}at /m);
      expect(cli.stderr()).not.toMatch(/EPIPE|Error/);
      if (line) expect(lines(cli.stderr())).toEqual([expect.stringMatching(line)]);
      else expect(cli.output()).toContain('"type":"stopped","exitCode":130');
      await waitFor('every process it started to be gone', () => (seen.every((pid) => !isAlive(pid)) ? true : undefined), 5_000);
    });
  }
});

describe('SIGTERM (timeout, a CI runner) stops a command as Ctrl-C does', () => {
  it('probe under load: exit 130, the report of what was sent', async () => {
    const server = await spawnServe(['--port', '0', '--workers', '2']);
    const cli = startGroup(['probe', '--url', server.url, '--route', 'pid', '--duration', '20s', '--no-progress']);
    try {
      // The server's own count says the load runs.
      await waitFor('the load to run', async () => ((JSON.parse((await request(server.url, '/_cluster/stats')).body) as { totals: { requests: number } }).totals.requests > 0 ? true : undefined), 20_000, 20);
      process.kill(cli.pid, 'SIGTERM');
      expect(await cli.done).toBe(130);
      expect(cli.output()).toContain('interrupted: the figures cover the requests sent before Ctrl-C');
    } finally {
      if (isAlive(cli.pid)) process.kill(-cli.pid, 'SIGKILL');
      await server.stop('SIGTERM', 10_000);
    }
  });
});

describe('serve whose stdout reader goes away (serve | head -2)', () => {
  it('keeps serving, silently, and still stops cleanly', async () => {
    const child = spawn(process.execPath, [cliEntryPath(), 'serve', '--port', '0', '--workers', '2', '--log', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // Read until `ready` (its URL), then close the pipe as head does after its lines.
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const ready = /"type":"ready","url":"([^"]+)"/.exec(text);
          if (ready) resolve(ready[1]!);
        });
        child.once('exit', () => reject(new Error(`serve exited before ready:\n${text}${stderr}`)));
      });
      child.stdout.destroy();
      // Every later log line now meets a closed pipe: a worker's respawn makes several.
      for (let i = 0; i < 6; i++) expect((await request(url, '/pid')).status).toBe(200);
      child.kill('SIGHUP');
      await waitFor('the rolling restart to be done', async () => ((await request(url, '/pid')).status === 200 && Date.now() > 0 ? true : undefined), 5_000);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('--stats on an address others can reach is said out loud', () => {
  it('serve --host 0.0.0.0 --stats: one warning line on stderr', async () => {
    const server = await spawnServe(['--host', '0.0.0.0', '--stats', '--port', '0', '--workers', '1']);
    try {
      await waitFor('the warning', () => (server.output().includes('warning: --stats on 0.0.0.0') ? true : undefined), 5_000);
      expect(server.output()).toMatch(/^warning: --stats on 0\.0\.0\.0: \/dashboard, \/_cluster\/stats, \/_cluster\/events and \/metrics answer anyone who can reach port \d+$/m);
    } finally {
      await server.stop('SIGTERM', 10_000);
    }
  });
});
