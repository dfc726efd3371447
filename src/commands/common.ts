import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../core/errors.js';
import { setMaxListeners } from 'node:events';
import { formatDuration, LIMITS, parseChoice, parseDurationMs, parsePositiveInt, wholeNumber } from './options.js';
import { DEFAULT_N } from '../cluster/sum.js';

/** `scheme://user:password@host` with both parts masked: commander echoes a rejected value as it was typed. */
export function maskCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi, '$1***@');
}

/** Every command reports usage errors the same way: commander throws, cli.ts prints one line and exits 2. */
export function newCommand(name: string): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(maskCredentials(text)) })
    .showHelpAfterError(`(run "cluster-demo ${name} --help" for usage)`);
}

/** Whether the user typed `--flag` (not its default): a flag that the chosen mode ignores must not pass silently. */
export function given(command: Command, key: string): boolean {
  return command.getOptionValueSource(key) === 'cli';
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

/** A duration flag (10s, 500ms, 2m) whose help shows its default with the unit, as it must be typed. */
export function durationOption(flags: string, description: string, defaultMs?: number): Option {
  const option = new Option(flags, description).argParser(parseDurationMs);
  return defaultMs === undefined ? option : option.default(defaultMs, formatDuration(defaultMs));
}

export function addLoadOptions(command: Command): Command {
  return command
    .option('-c, --concurrency <n>', 'requests in flight at once', wholeNumber(1, LIMITS.concurrency), 50)
    .option('-r, --requests <n>', 'requests per route (default: 2000 for /pid, 400 for /api/:n)', wholeNumber(1, LIMITS.requests))
    .addOption(durationOption('-d, --duration <time>', 'run each route for this long instead, e.g. 10s'))
    .option('--route <route>', 'pid, api or both', parseChoice(['pid', 'api', 'both'] as const), 'both')
    .addOption(new Option('--n <n>', 'n for /api/:n').argParser(parsePositiveInt).default(DEFAULT_N, `${DEFAULT_N}, about 10 ms of CPU work`))
    .addOption(durationOption('--timeout <time>', 'per-request timeout', 10_000))
    .option('-k, --keep-alive', 'reuse keep-alive connections (default: a new connection per request)', false)
    .option('--connections <n>', 'with --keep-alive: at most this many connections (default: --concurrency); with --h2: the HTTP/2 connections the streams share (default 1)', wholeNumber(1, LIMITS.connections))
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
 *
 * A run that Ctrl-C cut short before it had anything to report ends in an error: its own *Interrupted, or
 * whatever the signal broke on its way in (a worker or a child server killed by the terminal's SIGINT while it
 * started). Every run stops what it started on its way out, so once the signal has fired any error is the
 * interruption: `clear` tidies the terminal, then `line` on stderr, exit code 130, and the result is undefined.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>, line: string, clear: () => void): Promise<T | undefined> {
  const interrupt = new AbortController();
  // One listener per thing it stops (fleet: one per instance starting): not a leak.
  setMaxListeners(1_000, interrupt.signal);
  // SIGTERM (`timeout`, a CI runner, `kill`) stops it the same way, with the same exit code (130, interrupted):
  // nginx, Chromium and the servers it started must not outlive it either.
  const onSignal = () => (interrupt.signal.aborted ? process.exit(130) : interrupt.abort());
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(interrupt.signal);
  } catch (err) {
    // The terminal sends SIGINT to the whole process group: a child may die of it, and its end be noticed,
    // a moment before this process runs its own handler.
    if (!interrupt.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!interrupt.signal.aborted) throw err;
    clear();
    console.error(line);
    process.exitCode = 130;
    return undefined;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `--app` and its companions, shared by serve's measuring siblings (probe, compare, browser). */
export interface AppFlags {
  app?: string;
  cwd?: string;
  path?: string[];
  listenTimeout: number;
}

function collectPath(value: string, previous: string[] | undefined): string[] {
  if (!value.startsWith('/')) throw new InvalidArgumentError(`a path of the app starts with / (got ${value})`);
  return [...(previous ?? []), value];
}

export function addAppOptions(command: Command): Command {
  return command
    .argument('[app-args...]', "with --app: the app's own arguments, after --")
    .option('--app <entry>', 'boot your own app (app.js, server.mjs, src/main.ts), unmodified, as the cluster instead of the demo server (docs/your-app.md)')
    .option('--path <path>', 'a path to request, GET (repeatable; with --app default /; also with --url)', collectPath)
    .option('--cwd <dir>', 'with --app: the directory the app runs in')
    .addOption(durationOption('--listen-timeout <time>', 'with --app: how long every worker may take to listen', 10_000));
}

/** The app to boot, from the flags and the arguments after `--`; one line (exit 2) for a flag without --app. */
export function appFrom(command: Command, flags: AppFlags, appArgs: string[]): { entry: string; args: string[]; cwd?: string; listenTimeoutMs: number } | undefined {
  const name = command.name();
  if (flags.app === undefined) {
    if (appArgs.length > 0) throw new UsageError(`unexpected argument ${appArgs[0]}: arguments after -- are the app's, with --app`, name);
    if (given(command, 'cwd')) throw new UsageError('--cwd is for --app', name);
    if (given(command, 'listenTimeout')) throw new UsageError('--listen-timeout is for --app', name);
    return undefined;
  }
  const sched = (flags as { sched?: string }).sched;
  if (sched === 'least-conn' || sched === 'ip-hash') throw new UsageError(`--sched ${sched} hands each connection to our own server; your app listens itself: use --sched rr, none or reuseport with --app`, name);
  return { entry: flags.app, args: appArgs, cwd: flags.cwd, listenTimeoutMs: flags.listenTimeout };
}
