/**
 * Forking one worker and wiring its process to the primary: the typed messages (messages.ts), its exit, and
 * the two guards under node:cluster that every worker gets (node-internals/). The primary decides what the
 * events mean; this file only turns them into calls of `hooks`.
 */
import cluster from 'node:cluster';
import { trackHandoffs } from '../node-internals/handoffs.js';
import { forgetWhenClosed } from '../node-internals/held-disconnect.js';
import type { EventBody } from './cluster-api.js';
import { describeListenError } from './listen-errors.js';
import { isWorkerMessage, WORKER_CONFIG_ENV, type PrimaryToWorker, type WorkerConfig, type WorkerToPrimary } from './messages.js';
import type { SchedulingPolicy } from './policy.js';
import { markExited, markKilled, newWorkerState, type ExitStatus, type KillReason, type WorkerPhase, type WorkerPurpose, type WorkerState } from './worker-state.js';

export interface ForkHooks {
  listening(state: WorkerState): void;
  /** It could not listen; `line` says why, in one line. */
  listenFailed(state: WorkerState, line: string): void;
  /** It exited; `before` is the phase it was in. */
  exited(state: WorkerState, before: WorkerPhase, status: ExitStatus): void;
  /** Any other message of the worker (e.g. its stats). */
  message?(state: WorkerState, message: WorkerToPrimary): void;
  /** rr: it acknowledged a hand-off. */
  handoffAcknowledged?(state: WorkerState): void;
}

export interface ForkSetup {
  config: WorkerConfig;
  policy: SchedulingPolicy;
  emit(event: EventBody): void;
  hooks: ForkHooks;
}

export function forkWorker(slot: number, purpose: WorkerPurpose, setup: ForkSetup, replacing?: number): WorkerState {
  const { config, emit, hooks } = setup;
  const worker = cluster.fork({ [WORKER_CONFIG_ENV]: JSON.stringify(config) });
  // Only rr hands connections over; with none and reuseport there is nothing to track.
  const handoffs = setup.policy === 'rr' ? trackHandoffs(worker) : undefined;
  forgetWhenClosed(worker, () => cluster.workers);
  const state = newWorkerState(worker, slot, purpose);
  state.handoffs = handoffs;
  handoffs?.onAcknowledged(() => hooks.handoffAcknowledged?.(state));

  worker.on('online', () => emit({ type: 'worker-started', pid: state.pid, id: worker.id, slot, replacing }));
  worker.on('message', (message: unknown) => {
    if (!isWorkerMessage(message)) return;
    switch (message.type) {
      case 'listening':
        emit({ type: 'worker-listening', pid: state.pid, id: worker.id, slot });
        return hooks.listening(state);
      case 'listen-failed':
        return hooks.listenFailed(state, describeListenError(message.code, config.host, config.port, message.message));
      case 'drained':
        // Node has processed this worker's server close by now: nothing more is handed to it (messages.ts).
        return sendTo(state, { type: 'drained-ack' });
      case 'exiting':
        return; // its 'exit' follows
      default:
        return hooks.message?.(state, message);
    }
  });
  worker.on('error', () => {
    // IPC errors (e.g. a send to a worker that just died) surface as 'exit' too; nothing to add here.
  });
  worker.on('exit', (code, signal) => {
    const orphans = handoffs?.closeOrphans() ?? 0;
    if (orphans > 0) emit({ type: 'handoffs-closed', pid: state.pid, count: orphans });
    const status = { code, signal };
    hooks.exited(state, markExited(state, status), status);
  });
  return state;
}

/** A message to a worker; false when its channel is gone (it is exiting anyway). */
export function sendTo(state: WorkerState, message: PrimaryToWorker): boolean {
  try {
    if (!state.worker.isConnected()) return false;
    state.worker.send(message);
    return true;
  } catch {
    return false;
  }
}

export function killWorkerProcess(state: WorkerState, reason: KillReason, emit: (event: EventBody) => void): void {
  if (state.phase.name === 'exited') return;
  markKilled(state, reason);
  if (reason !== 'start-failed') emit({ type: 'worker-killed', pid: state.pid, reason });
  state.worker.process.kill('SIGKILL');
}
