/**
 * Shared helpers for the acceptance tests: real HTTP over fresh connections and real CLI processes.
 * Not a test file (vitest only collects *.test.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { cliEntryPath } from '../src/cluster/spawn.js';

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * One request on its own fresh TCP connection (agent: false, `Connection: close`), so the cluster's
 * scheduler picks a worker for every request.
 */
export function request(baseUrl: string, path: string, options: RequestOptions = {}): Promise<HttpReply> {
  const url = new URL(path, baseUrl);
  if (url.hostname !== '127.0.0.1') throw new Error(`tests talk to 127.0.0.1 only (got ${url.hostname})`);
  return new Promise<HttpReply>((resolve, reject) => {
    const req = http.request(
      {
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname + url.search,
        method: options.method ?? 'GET',
        agent: false,
        headers: { connection: 'close', ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error(`request ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The x-worker-pid header as a number (NaN if missing). */
export function workerPid(reply: HttpReply): number {
  return Number(reply.headers['x-worker-pid']);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls check() until it returns a value other than undefined, or throws after timeoutMs. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export const binPath = fileURLToPath(new URL('../bin/cluster-demo.js', import.meta.url));

/** A CLI process under way: its pid, what it printed so far, a way to signal it, and its end. */
export interface RunningCli {
  pid: number;
  stdout(): string;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  /** Exit code, signal and all of stdout and stderr, once the process has exited and its pipes closed. */
  done: Promise<CliResult>;
}

/** Starts `node <script> <args>` (NO_COLOR=1), stdout and stderr kept apart; for tests that signal it. */
export function startCli(args: string[], options: { script?: string; env?: NodeJS.ProcessEnv } = {}): RunningCli {
  const child = spawn(process.execPath, [options.script ?? cliEntryPath(), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { pid: child.pid!, stdout: () => stdout, stderr: () => stderr, kill: (signal) => child.kill(signal), done };
}

/**
 * Runs `node <script> <args>` to completion, stdout and stderr kept apart. The child is SIGKILLed after
 * timeoutMs so a hung CLI fails the test instead of outliving it.
 */
export async function runCli(args: string[], options: { script?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const cli = startCli(args, options);
  const killer = setTimeout(() => cli.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  try {
    return await cli.done;
  } finally {
    clearTimeout(killer);
  }
}

/** Every process below `root` (a cluster's workers, Chromium's zygote and renderers: grandchildren of the CLI). */
export function descendants(root: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of table) if (ppid === parent) (found.push(pid), queue.push(pid));
  }
  return found;
}

/** Whether a process exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** CPU time a process has used so far, ms (Linux: /proc/<pid>/stat, utime + stime in clock ticks of 10 ms). */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Waits until one of `pids` has used `cpuMs` of CPU since the call: a request to a CPU-bound route has reached
 * its worker and is running. Returns that worker's pid. The condition, not a guess at how long that takes.
 */
export function waitForBusyWorker(pids: readonly number[], cpuMs = 50, timeoutMs = 10_000): Promise<number> {
  const start = new Map(pids.map((pid) => [pid, cpuTimeMs(pid)]));
  return waitFor(`a worker of ${pids.join(', ')} to compute for ${cpuMs} ms`, () => pids.find((pid) => cpuTimeMs(pid) - start.get(pid)! >= cpuMs), timeoutMs, 10);
}

/** Non-empty lines of a chunk of output. */
export function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}

/** The TCP port `pid` listens on (Linux: its socket inodes in /proc/<pid>/fd, matched in /proc/net/tcp), if any. */
export function listeningPort(pid: number): number | undefined {
  let inodes: Set<string>;
  try {
    inodes = new Set(readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        return link.startsWith('socket:[') ? [link.slice(8, -1)] : [];
      } catch {
        return [];
      }
    }));
  } catch {
    return undefined;
  }
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[3] === '0A' && inodes.has(fields[9] ?? '')) return Number.parseInt(fields[1]!.split(':')[1]!, 16);
  }
  return undefined;
}

/** Lines of `ps -e` (pid and command line) that contain `pattern`, e.g. fleet's temp dir in nginx's arguments. */
export function processesMatching(pattern: string): string[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,args='], { encoding: 'utf8' });
  return table.split('\n').filter((line) => line.includes(pattern) && !line.includes('ps -e'));
}

/** fleet's temporary directories still in the OS temp dir. */
export function fleetTempDirs(): string[] {
  return readdirSync(os.tmpdir()).filter((name) => name.startsWith('cluster-demo-fleet-'));
}
