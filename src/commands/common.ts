import { Command } from 'commander';
import { parseChoice, parseDurationMs, parsePositiveInt } from './options.js';

/** Every command reports usage errors the same way: commander throws, cli.ts prints one line and exits 2. */
export function newCommand(name: string): Command {
  return new Command(name).exitOverride().showHelpAfterError(`(run "cluster-demo ${name} --help" for usage)`);
}

/** The load's shape, shared by every command that runs the probe's engine (probe, fleet). */
export interface LoadFlags {
  concurrency: number;
  requests?: number;
  duration?: number;
  route: 'pid' | 'api' | 'both';
  n: number;
  timeout: number;
  keepAlive: boolean;
  connections?: number;
  h2: boolean;
}

/** The load flags as the probe's options. */
export function loadOptionsFrom(flags: LoadFlags) {
  return {
    concurrency: flags.concurrency,
    requests: flags.requests,
    durationMs: flags.duration,
    route: flags.route,
    n: flags.n,
    timeoutMs: flags.timeout,
    keepAlive: flags.keepAlive,
    connections: flags.connections,
    h2: flags.h2,
  };
}

export function addLoadOptions(command: Command): Command {
  return command
    .option('-c, --concurrency <n>', 'requests in flight at once', parsePositiveInt, 50)
    .option('-r, --requests <n>', 'requests per route (default: 2000 for /pid, 400 for /api/:n)', parsePositiveInt)
    .option('-d, --duration <time>', 'run each route for this long instead, e.g. 10s', parseDurationMs)
    .option('--route <route>', 'pid, api or both', parseChoice(['pid', 'api', 'both'] as const), 'both')
    .option('--n <n>', 'n for /api/:n (default: about 10 ms of CPU work)', parsePositiveInt, 12_000_000)
    .option('--timeout <time>', 'per-request timeout', parseDurationMs, 10_000)
    .option('-k, --keep-alive', 'reuse keep-alive connections (default: a new connection per request)', false)
    .option('--connections <n>', 'with --keep-alive: at most this many connections (default: --concurrency); with --h2: the HTTP/2 connections the streams share (default 1)', parsePositiveInt)
    .option('--h2', 'HTTP/2: every request a stream over --connections connections (https targets; in-process: the cluster serves HTTP/2)', false);
}

export interface OutputFlags {
  json: boolean;
  progress: boolean;
  color: boolean;
  report?: string;
}

export function addOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print one JSON document on stdout (schemas: docs/schema/)', false)
    .option('--report <file.html>', 'also write the run as one self-contained HTML page with charts (opens offline)')
    .option('--no-progress', 'no live view on stderr')
    .option('--no-color', 'no colours');
}

/**
 * Runs `work` with a signal that the first Ctrl-C aborts (stop sending, report what was measured, stop what was
 * started); a second Ctrl-C leaves at once with 130. The handler is removed however `work` ends.
 */
export async function withCtrlC<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const interrupt = new AbortController();
  const onSigint = () => (interrupt.signal.aborted ? process.exit(130) : interrupt.abort());
  process.on('SIGINT', onSigint);
  try {
    return await work(interrupt.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/**
 * Ends a run that Ctrl-C cut short before it had anything to report (its own error class): `clear` tidies the
 * terminal, then one line on stderr and exit code 130; the result is undefined. Any other error goes on.
 */
export async function unlessInterrupted<T>(run: Promise<T>, interrupted: abstract new (...args: never[]) => Error, line: string, clear: () => void): Promise<T | undefined> {
  try {
    return await run;
  } catch (err) {
    if (!(err instanceof interrupted)) throw err;
    clear();
    console.error(line);
    process.exitCode = 130;
    return undefined;
  }
}
