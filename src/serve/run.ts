/**
 * `cluster-demo serve`: the cluster in the foreground, logging to stdout, for people (the seed's lines) or, with
 * `--log json`, for programs (one JSON object per line: fleet, compare, bench and the tests read this, never the
 * human text). SIGINT/SIGTERM stop it gracefully (a second one forces), SIGHUP reloads it one worker at a time.
 * Resolves with the process exit code.
 */
import { ExpectedError } from '../core/errors.js';
import { formatClusterEvent } from '../report/cluster-log.js';
import { ClusterStartError, startCluster, type ClusterEvent, type SchedulingPolicy } from '../server/primary.js';
import { serveLogLine, type ServeLogEvent } from './log.js';

export type LogFormat = 'human' | 'json';

export interface ServeOptions {
  port: number;
  host: string;
  workers: number;
  sched: SchedulingPolicy;
  maxN: number;
  graceSeconds: number;
  headersTimeoutSeconds?: number;
  name?: string;
  log: LogFormat;
}

/** Where each event goes, in the chosen format: the seed's sentences, or one JSON line. */
function makeLogger(options: ServeOptions, write: (line: string) => void): (event: ServeLogEvent) => void {
  if (options.log === 'json') return (event) => write(serveLogLine(event));
  return (event) => {
    if (event.type === 'signal') write(event.repeated ? `Received ${event.signal} again: forcing` : `Received ${event.signal}`);
    else if (event.type === 'reload-failed') write(`Rolling restart failed: ${event.message}`);
    else if (event.type === 'start-failed') return; // the CLI prints it as its one error line
    else formatClusterEvent(event, options.graceSeconds).forEach(write);
  };
}

export async function runServe(options: ServeOptions, write: (line: string) => void = (line) => console.log(line)): Promise<number> {
  const log = makeLogger(options, write);
  let cluster;
  try {
    cluster = await startCluster({
      port: options.port,
      host: options.host,
      workers: options.workers,
      sched: options.sched,
      maxN: options.maxN,
      name: options.name,
      graceMs: options.graceSeconds * 1000,
      headersTimeoutMs: options.headersTimeoutSeconds !== undefined ? options.headersTimeoutSeconds * 1000 : undefined,
      onEvent: (event: ClusterEvent) => log(event),
    });
  } catch (err) {
    if (!(err instanceof ClusterStartError)) throw err;
    log({ at: Date.now(), type: 'start-failed', message: err.message });
    throw new ExpectedError(err.message, { cause: err });
  }
  const running = cluster;

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onStop = (signal: NodeJS.Signals) => {
      signals++;
      log({ at: Date.now(), type: 'signal', signal, repeated: signals > 1 });
      if (signals === 1) void running.stop().then((result) => finish(result.exitCode));
      else void running.forceStop().then(() => finish(1));
    };
    const onReload = (signal: NodeJS.Signals) => {
      log({ at: Date.now(), type: 'signal', signal, repeated: false });
      running.reload().catch((err: Error) => log({ at: Date.now(), type: 'reload-failed', message: err.message }));
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
