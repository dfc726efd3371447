/**
 * Runs one of our servers in a child process and waits for its readiness, read from its JSON log (`serve --log
 * json`, or single.ts): the `ready` event, never a sentence. `compare` uses it for both contenders so that neither
 * shares an event loop with the load generator; fleet for its instances; the tests to send real signals to a
 * real `cluster-demo serve`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { builtFile } from '../core/built-file.js';
import { ExpectedError } from '../core/errors.js';
import { parseServeLogLine, type ServeLogEvent } from './serve-log.js';

/** A server that did not become ready: one line (its own start-failed reason, or how it ended); `output` has the rest. */
export class ServerStartError extends ExpectedError {
  override name = 'ServerStartError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

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
  return builtFile(import.meta.url, '../cli.js', '../../dist/cli.js');
}

export function singleEntryPath(): string {
  return builtFile(import.meta.url, './single.js', '../../dist/cluster/single.js');
}

/** `cluster-demo serve <args> --log json` in a child process, once it is ready. */
export function spawnServe(args: string[], options: SpawnOptions = {}): Promise<SpawnedServer> {
  // Ours before `--`: what follows it is an app's own arguments (`serve --app app.js -- --port 8080`).
  const end = args.indexOf('--');
  const ours = end === -1 ? args : args.slice(0, end);
  const theirs = end === -1 ? [] : args.slice(end);
  return spawnServer(cliEntryPath(), ['serve', ...ours, '--log', 'json', ...theirs], options);
}

export interface SpawnOptions {
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Aborted before the server is ready (Ctrl-C): it is sent SIGTERM, and the promise rejects once it is gone. */
  signal?: AbortSignal;
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
      reject(new ServerStartError(`the server did not become ready within ${timeoutMs / 1000} s`, output));
    }, timeoutMs);
    // Its own graceful stop, which start-up honours too; the rejection below follows its exit.
    const interrupt = () => child.kill('SIGTERM');
    if (options.signal?.aborted) interrupt();
    options.signal?.addEventListener('abort', interrupt, { once: true });
    void exited.then(() => options.signal?.removeEventListener('abort', interrupt));
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
        options.signal?.removeEventListener('abort', interrupt);
        resolve({ url: event.url, pid: child.pid, child, readyPids: event.pids, events: () => events, output: () => output, exited, stop });
      }
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => ((output += chunk.toString()), (stderr += chunk.toString())));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      const failed = events.find((e) => e.type === 'start-failed');
      // Its own one line when it logged one (start-failed), else its first `error:` line, else the last line it
      // wrote to stderr (a crash's message), with how it ended.
      const lines = output.split('\n');
      const said = lines.find((line) => line.startsWith('error: '))?.slice('error: '.length) ?? stderr.trim().split('\n').at(-1)?.trim();
      const ended = `the server exited (${signal ?? `code ${code}`}) before it was ready`;
      reject(new ServerStartError(failed?.type === 'start-failed' ? failed.message : said ? `${ended}: ${said}` : ended, output));
    });
  });
}
