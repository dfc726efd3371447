/**
 * Runs one of our servers in a child process and waits for its readiness, read from its JSON log (`serve --log
 * json`, or single.ts): the `ready` event, never a sentence. `compare` uses it for both contenders so that neither
 * shares an event loop with the load generator; fleet for its instances; the tests to send real signals to a
 * real `cluster-demo serve`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseServeLogLine, type ServeLogEvent } from './serve-log.js';

export interface SpawnedServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** The PIDs of the workers when it became ready (the process itself for a single process). */
  readyPids: number[];
  /** Every JSON log event so far, in order. */
  events(): ServeLogEvent[];
  /** Everything the child printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the child is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends signal (default SIGTERM) and waits for the exit; SIGKILL after timeoutMs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The CLI's entry, as built: dist/cli.js (also when these sources run as TypeScript under vitest). */
export function cliEntryPath(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/cli.js' : '../cli.js', import.meta.url));
}

export function singleEntryPath(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/server/single.js' : './single.js', import.meta.url));
}

/** `cluster-demo serve <args> --log json` in a child process, once it is ready. */
export function spawnServe(args: string[], options: SpawnOptions = {}): Promise<SpawnedServer> {
  return spawnServer(cliEntryPath(), ['serve', ...args, '--log', 'json'], options);
}

export interface SpawnOptions {
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Starts `node <script> <args>` (a program that writes our JSON log) and resolves once it logs `ready`. */
export function spawnServer(script: string, args: string[], options: SpawnOptions = {}): Promise<SpawnedServer> {
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...options.env } });
  let output = '';
  let partial = '';
  const events: ServeLogEvent[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    try {
      return await exited;
    } finally {
      clearTimeout(killer);
    }
  };
  return new Promise<SpawnedServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not log "ready" within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const event = parseServeLogLine(line);
        if (!event) continue;
        events.push(event);
        if (event.type !== 'ready' || child.pid === undefined) continue;
        clearTimeout(timer);
        resolve({ url: event.url, pid: child.pid, child, readyPids: event.pids, events: () => events, output: () => output, exited, stop });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      const failed = events.find((e) => e.type === 'start-failed');
      reject(new Error(failed?.type === 'start-failed' ? failed.message : `server exited (${signal ?? `code ${code}`}) before it was ready:\n${output}`));
    });
  });
}
