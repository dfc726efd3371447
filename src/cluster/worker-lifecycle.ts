/**
 * A worker's side of the primary's protocol (messages.ts), shared by our demo worker (worker.ts) and the agent
 * preloaded into a user's app (app/agent.ts): send a message, and the graceful stop: on `shutdown`, drain, say
 * `drained`, wait for the primary's `drained-ack` (or 2 s), send the last counts, then `exiting`, then exit.
 */
import { isPrimaryMessage, type WorkerToPrimary } from './messages.js';
import type { WorkerStats } from './counts/worker-stats.js';

export function sendToPrimary(message: WorkerToPrimary, then?: () => void): void {
  if (process.send && process.connected) process.send(message, undefined, {}, () => then?.());
  else then?.();
}

export interface LifecycleOptions {
  stats?: WorkerStats;
  /** Stop accepting and finish what is in flight; `closed` once the last connection has ended. */
  drain(closed: () => void): void;
}

export function runWorkerLifecycle({ stats, drain }: LifecycleOptions): void {
  let shuttingDown = false;
  let exiting = false;
  const exitNow = (): void => {
    if (exiting) return;
    exiting = true;
    // The last counts first, so the cluster's totals keep every request this worker answered.
    stats?.stop();
    stats?.sendReport();
    // Written in order: once `exiting` is out, so is every connection this worker handed back to the primary.
    sendToPrimary({ type: 'exiting', pid: process.pid }, () => process.exit(0));
  };
  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message)) return;
    if (stats?.handle(message)) return;
    if (message.type === 'drained-ack') return exitNow();
    if (message.type !== 'shutdown' || shuttingDown) return;
    shuttingDown = true;
    // Exiting right when the last connection ends could drop a connection the primary is handing over at that
    // moment (see messages.ts): wait for the primary's drained-ack (or, if it never comes, exit after 2 s).
    drain(() => {
      if (!process.send || !process.connected) process.exit(0);
      sendToPrimary({ type: 'drained', pid: process.pid });
      setTimeout(exitNow, 2_000);
    });
  });
  // Ctrl-C and a terminal hang-up reach the whole process group. The primary coordinates shutdown and reload,
  // so the workers leave those signals to it (they still exit if the primary goes away: IPC disconnect).
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
}
