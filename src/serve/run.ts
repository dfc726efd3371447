import { formatClusterEvent } from '../report/cluster-log.js';
import { ClusterStartError, startCluster, type SchedulingPolicy } from '../server/primary.js';
import { ExpectedError } from '../core/errors.js';

export interface ServeOptions {
  port: number;
  host: string;
  workers: number;
  sched: SchedulingPolicy;
  maxN: number;
  graceSeconds: number;
  headersTimeoutSeconds?: number;
  name?: string;
}

/**
 * `cluster-demo serve`: the cluster in the foreground, logging to stdout. SIGINT/SIGTERM stop it gracefully
 * (a second one forces), SIGHUP reloads it one worker at a time. Resolves with the process exit code.
 */
export async function runServe(options: ServeOptions, log: (line: string) => void = (line) => console.log(line)): Promise<number> {
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
      onEvent: (event) => formatClusterEvent(event, options.graceSeconds).forEach((line) => log(line)),
    });
  } catch (err) {
    if (err instanceof ClusterStartError) throw new ExpectedError(err.message, { cause: err });
    throw err;
  }
  const running = cluster;

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onStop = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        log(`Received ${signal}`);
        void running.stop().then((result) => finish(result.exitCode));
      } else {
        log(`Received ${signal} again: forcing`);
        void running.forceStop().then(() => finish(1));
      }
    };
    const onReload = () => {
      running.reload().catch((err: Error) => log(`Rolling restart failed: ${err.message}`));
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
