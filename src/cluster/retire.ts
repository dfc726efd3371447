/**
 * Retiring a worker (stop and reload): it is told to finish its in-flight requests and exit, and killed if it
 * outlives the grace period.
 */
import type { EventBody } from './cluster-api.js';
import { killWorkerProcess, sendTo } from './fork.js';
import { markDraining, type WorkerState } from './worker-state.js';

/** Resolves once the worker is gone: true when it had to be killed. */
export function retireWorker(state: WorkerState, graceMs: number, emit: (event: EventBody) => void): Promise<boolean> {
  if (state.phase.name === 'exited') return Promise.resolve(false);
  const wasListening = state.phase.name === 'listening';
  markDraining(state);
  const tell = () => {
    if (!sendTo(state, { type: 'shutdown' })) state.worker.process.kill('SIGTERM');
  };
  // A worker still starting up has no message handler yet: a shutdown sent now would be dropped and cost
  // the whole grace period (e.g. stop() right after a respawn). It is told as soon as it listens.
  if (wasListening) tell();
  else void state.listened.then(tell);
  let timer: NodeJS.Timeout | undefined;
  const graceExpired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      killWorkerProcess(state, 'grace', emit);
      resolve(true);
    }, graceMs);
  });
  return Promise.race([state.exited.then(() => false), graceExpired]).finally(() => clearTimeout(timer));
}
