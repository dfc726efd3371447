/**
 * Forking one worker and wiring its process to the primary: the typed messages (messages.ts), its exit, and
 * the two guards under node:cluster that every worker gets (node-internals/). The primary decides what the
 * events mean; this file only turns them into calls of `hooks`.
 */
import cluster, { type Worker } from 'node:cluster';
import { trackHandoffs } from '../node-internals/handoffs.js';
import { forgetWhenClosed } from '../node-internals/held-disconnect.js';
import type { EventBody } from './cluster-api.js';
import { describeListenError } from './listen-errors.js';
import type { AppOutput } from '../app/app-output.js';
import { isWorkerMessage, type PrimaryToWorker, type WorkerToPrimary } from './messages.js';
import type { SchedulingPolicy } from './policy.js';
import { markExited, markKilled, newWorkerState, type ExitStatus, type KillReason, type WorkerPhase, type WorkerPurpose, type WorkerState } from './worker-state.js';

export interface ForkHooks {
  /** It listens on host:port (a user's app may listen on several: each one is reported). */
  listening(state: WorkerState, address: { host: string; port: number; askedPort?: number }): void;
  /** It could not listen; `line` says why, in one line. */
  listenFailed(state: WorkerState, line: string): void;
  /** It exited; `before` is the phase it was in. */
  exited(state: WorkerState, before: WorkerPhase, status: ExitStatus): void;
  /** A user's app called listen() (where it asked to). */
  listenStarted?(state: WorkerState, address: { host?: string; port?: number }): void;
  /** Any other message of the worker (e.g. its stats). */
  message?(state: WorkerState, message: WorkerToPrimary): void;
  /** rr: it acknowledged a hand-off. */
  handoffAcknowledged?(state: WorkerState): void;
}

export interface ForkSetup {
  /** The worker's configuration, in its environment (the demo worker's, or the agent's in a user's app). */
  env(): Record<string, string>;
  /** Where it is told to listen, for the one line about a failure (a user's app says where it tried). */
  listenTarget: { host: string; port: number };
  /** A user's app: its output, each worker's stderr held until it listens (app/app-output.ts). */
  output?: AppOutput;
  /** One line for a failed listen (default: ours, naming --port). */
  describeListenFailure?: typeof describeListenError;
  policy: SchedulingPolicy;
  emit(event: EventBody): void;
  hooks: ForkHooks;
}

export function forkWorker(slot: number, purpose: WorkerPurpose, setup: ForkSetup, replacing?: number): WorkerState {
  const { emit, hooks, listenTarget } = setup;
  const worker = cluster.fork(setup.env());
  // Only rr hands connections over; with none and reuseport there is nothing to track.
  const handoffs = setup.policy === 'rr' ? trackHandoffs(worker) : undefined;
  forgetWhenClosed(worker, () => cluster.workers);
  const state = newWorkerState(worker, slot, purpose);
  state.handoffs = handoffs;
  state.stderr = setup.output?.attach(worker.process.stdout, worker.process.stderr);
  handoffs?.onAcknowledged(() => hooks.handoffAcknowledged?.(state));

  worker.on('online', () => emit({ type: 'worker-started', pid: state.pid, id: worker.id, slot, replacing }));
  worker.on('message', (message: unknown) => {
    if (!isWorkerMessage(message)) return;
    switch (message.type) {
      case 'listening':
        state.stderr?.open();
        if (state.phase.name === 'starting') emit({ type: 'worker-listening', pid: state.pid, id: worker.id, slot });
        return hooks.listening(state, { host: message.host, port: message.port, askedPort: message.askedPort });
      case 'listen-failed':
        state.stderr?.drop();
        return hooks.listenFailed(state, (setup.describeListenFailure ?? describeListenError)(message.code, message.host ?? listenTarget.host, message.port ?? listenTarget.port, message.message));
      case 'drained':
        // Node has processed this worker's server close by now: nothing more is handed to it (messages.ts).
        return sendTo(state, { type: 'drained-ack' });
      case 'listen-started':
        return hooks.listenStarted?.(state, { host: message.host, port: message.port });
      case 'exiting':
        return; // its 'exit' follows
      default:
        return hooks.message?.(state, message);
    }
  });
  worker.on('error', () => {
    // IPC errors (e.g. a send to a worker that just died) surface as 'exit' too; nothing to add here.
  });
  const closeOrphans = () => {
    const orphans = handoffs?.closeOrphans() ?? 0;
    if (orphans > 0) emit({ type: 'handoffs-closed', pid: state.pid, count: orphans });
  };
  // A worker whose exit is seen before its channel ends stays on rr's free list until that end (node:cluster
  // removes it at 'disconnect', held-disconnect.ts), and is handed connections it will never acknowledge: those
  // are closed when the channel ends, after node:cluster's own 'disconnect' listener, when nothing more is sent.
  if (handoffs) worker.on('disconnect', closeOrphans);
  worker.on('exit', (code, signal) => {
    const exited = () => {
      closeOrphans();
      const status = { code, signal };
      hooks.exited(state, markExited(state, status), status);
    };
    // A user's app that dies of its own listen error says so in its last message (app/agent.ts), and its crash in
    // its stderr, both of which can reach us after its exit: the exit is judged once its channel and its stderr have
    // delivered everything (or 500 ms on).
    if (setup.output) afterOutputEnds(worker, exited);
    else exited();
  });
  return state;
}

function afterOutputEnds(worker: Worker, then: () => void): void {
  const stderr = worker.process.stderr;
  const waits = [
    ...(worker.isConnected() ? [new Promise<void>((resolve) => worker.once('disconnect', () => resolve()))] : []),
    ...(stderr && !stderr.destroyed && !stderr.readableEnded ? [new Promise<void>((resolve) => stderr.once('close', () => resolve()))] : []),
  ];
  if (waits.length === 0) return then();
  let timer: NodeJS.Timeout | undefined;
  void Promise.race([Promise.all(waits), new Promise<void>((resolve) => (timer = setTimeout(resolve, 500)))]).then(() => {
    clearTimeout(timer);
    then();
  });
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
