/**
 * `cluster-demo serve`: the cluster in the foreground. Its log goes to stdout, for people (the seed's lines,
 * and on a TTY the workers' live table) or, with `--log json`, for programs (one JSON object per line: fleet,
 * compare, bench and the tests read this, never the human text). SIGINT/SIGTERM stop it gracefully (a second
 * one forces), SIGHUP reloads it one worker at a time. Resolves with the process exit code.
 */
import { ExpectedError } from '../core/errors.js';
import { formatClusterEvent } from '../report/cluster-log.js';
import { makeChalk } from '../report/style.js';
import { isLoopbackHost } from '../cluster/settings.js';
import { ClusterStartError, ClusterStartInterrupted, startCluster, type ClusterEvent, type RunningCluster, type SchedulingPolicy } from '../cluster/primary.js';
import type { ServeProtocol } from '../cluster/demo-server.js';
import type { TlsMaterial } from '../cluster/tls/certificate.js';
import type { AppOptions } from '../app/app-setup.js';
import { startServeView, type ServeView } from './terminal-view.js';
import { serveLogLine, type ServeLogEvent } from '../cluster/serve-log.js';

export type LogFormat = 'human' | 'json';

export interface ServeOptions {
  protocol?: ServeProtocol;
  /** https and h2: the user's certificate; undefined: a self-signed one. */
  tls?: TlsMaterial;
  port: number;
  host: string;
  workers: number;
  sched: SchedulingPolicy;
  maxN: number;
  graceSeconds: number;
  headersTimeoutSeconds?: number;
  /** End older keep-alive and HTTP/2 connections gracefully, ms; undefined: never. */
  maxConnectionAgeMs?: number;
  name?: string;
  log: LogFormat;
  /** undefined: counted, routes on a loopback host only; true: routes on any host; false: no stats. */
  stats?: boolean;
  /** On a TTY, the workers' table redrawn in place (human log only). */
  live: boolean;
  color?: boolean;
  /** Run the user's app as the workers (`serve --app`). */
  app?: AppOptions;
  /** With app: how long its workers may take to listen, ms. */
  listenTimeoutMs?: number;
  /** The stats routes on a port of the primary's own (0: any free one). */
  statsPort?: number;
}

export interface ServeOutput {
  write(text: string): void;
  isTTY?: boolean;
}

/** Where each event goes, in the chosen format: the seed's sentences, or one JSON line. */
function makeLogger(options: ServeOptions, line: (text: string) => void): (event: ServeLogEvent) => void {
  if (options.log === 'json') return (event) => line(serveLogLine(event));
  return (event) => {
    if (event.type === 'signal') line(event.repeated ? `Received ${event.signal} again: forcing` : `Received ${event.signal}`);
    else if (event.type === 'reload-failed') line(`Rolling restart failed: ${event.message}`);
    else if (event.type === 'start-failed' || event.type === 'summary') return; // the CLI's error line; the view's own
    else formatClusterEvent(event, options.graceSeconds).forEach(line);
  };
}

async function start(options: ServeOptions, log: (event: ServeLogEvent) => void, signal: AbortSignal): Promise<RunningCluster> {
  try {
    return await startCluster({
      protocol: options.protocol,
      tls: options.tls,
      port: options.port,
      host: options.host,
      workers: options.workers,
      sched: options.sched,
      maxN: options.maxN,
      name: options.name,
      graceMs: options.graceSeconds * 1000,
      headersTimeoutMs: options.headersTimeoutSeconds !== undefined ? options.headersTimeoutSeconds * 1000 : undefined,
      maxConnectionAgeMs: options.maxConnectionAgeMs,
      stats: options.stats,
      // The JSON log is for programs: the app's own stdout goes to stderr then.
      app: options.app && { ...options.app, stdout: options.log === 'json' ? 'stderr' : 'stdout' },
      statsPort: options.statsPort,
      readyTimeoutMs: options.app ? options.listenTimeoutMs : undefined,
      onEvent: (event: ClusterEvent) => log(event),
      signal,
    });
  } catch (err) {
    if (err instanceof ClusterStartInterrupted) throw err;
    if (!(err instanceof ClusterStartError)) throw err;
    log({ at: Date.now(), type: 'start-failed', message: err.message });
    throw new ExpectedError(err.message, { cause: err });
  }
}

export async function runServe(options: ServeOptions, out: ServeOutput = process.stdout): Promise<number> {
  let view: ServeView | undefined;
  const log = makeLogger(options, (text) => (view ? view.line(text) : out.write(`${text}\n`)));
  // A signal while the workers start: the ones started so far are killed, and the exit is 130 (not a failure).
  const interrupt = new AbortController();
  const onEarlySignal = (signal: NodeJS.Signals) => {
    log({ at: Date.now(), type: 'signal', signal, repeated: interrupt.signal.aborted });
    interrupt.abort();
  };
  process.on('SIGINT', onEarlySignal);
  process.on('SIGTERM', onEarlySignal);
  let cluster: RunningCluster;
  try {
    cluster = await start(options, log, interrupt.signal);
  } catch (err) {
    if (!(err instanceof ClusterStartInterrupted)) throw err;
    log({ at: Date.now(), type: 'stopped', exitCode: 130 });
    return 130;
  } finally {
    process.off('SIGINT', onEarlySignal);
    process.off('SIGTERM', onEarlySignal);
  }
  // Said once, on stderr (stdout may be the JSON log): the stats routes describe the cluster to anyone who reaches it.
  const statsAt = cluster.statsUrl ? new URL(cluster.statsUrl) : null;
  const statsBind = options.statsPort !== undefined ? (options.stats === true ? '0.0.0.0' : '127.0.0.1') : options.host;
  if (statsAt && !isLoopbackHost(statsBind)) {
    process.stderr.write(`warning: --stats on ${statsBind}: /dashboard, /_cluster/stats, /_cluster/events and /metrics answer anyone who can reach port ${statsAt.port}\n`);
  }
  view = startServeView(cluster, {
    live: options.live && options.log === 'human' && out.isTTY === true,
    json: options.log === 'json',
    dashboardUrl: cluster.statsUrl ? `${cluster.statsUrl}/dashboard` : null,
    c: makeChalk(options.color),
    write: (text) => out.write(text),
  });
  const code = await untilStopped(cluster, log);
  view.stop();
  return code;
}

/** SIGINT/SIGTERM: graceful stop (a second: forced); SIGHUP: rolling restart. Resolves with the exit code. */
function untilStopped(cluster: RunningCluster, log: (event: ServeLogEvent) => void): Promise<number> {
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onStop = (signal: NodeJS.Signals) => {
      signals++;
      log({ at: Date.now(), type: 'signal', signal, repeated: signals > 1 });
      if (signals === 1) void cluster.stop().then((result) => finish(result.exitCode));
      else void cluster.forceStop().then(() => finish(1));
    };
    const onReload = (signal: NodeJS.Signals) => {
      log({ at: Date.now(), type: 'signal', signal, repeated: false });
      cluster.reload().catch((err: Error) => log({ at: Date.now(), type: 'reload-failed', message: err.message }));
    };
    function finish(code: number): void {
      process.off('SIGINT', onStop);
      process.off('SIGTERM', onStop);
      process.off('SIGHUP', onReload);
      resolve(code);
    }
    process.on('SIGINT', onStop);
    process.on('SIGTERM', onStop);
    process.on('SIGHUP', onReload);
  });
}
