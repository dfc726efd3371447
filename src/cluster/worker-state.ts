/**
 * The life of one worker as explicit state, changed only by the named transitions below, and the one pure
 * decision the primary takes when a worker exits. Respawn, reload, stop and chaos read `phase`; nothing
 * decodes a set of booleans.
 *
 *   starting ──listened──▶ listening ──retire──▶ draining ──exit──▶ exited (expected)
 *      │                      │
 *      │                      └──kill (chaos)──▶ killed ──exit──▶ exited (a death: respawned at once)
 *      └──retire──▶ draining (told to go as soon as it listens)
 *   any phase ──exit──▶ exited (unasked: a death)
 */
import type { Worker } from 'node:cluster';
import type { StderrGate } from '../app/app-output.js';
import type { Handoffs } from '../node-internals/handoffs.js';

/** Why a worker was forked. */
export type WorkerPurpose = 'initial' | 'respawn' | 'reload';

/** Why the primary sent SIGKILL. */
export type KillReason = 'chaos' | 'grace' | 'forced' | 'start-failed';

export type WorkerPhase =
  | { name: 'starting' }
  | { name: 'listening' }
  /** Told to finish its requests and exit (stop or reload): its exit is expected. */
  | { name: 'draining' }
  /** SIGKILL sent; its exit is on the way. */
  | { name: 'killed'; reason: KillReason; wasDraining: boolean }
  | { name: 'exited'; code: number | null; signal: string | null };

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export interface WorkerState {
  worker: Worker;
  pid: number;
  slot: number;
  purpose: WorkerPurpose;
  startedAt: number;
  phase: WorkerPhase;
  /** Resolves when it first listens (never rejects: nobody may be waiting). */
  listened: Promise<void>;
  exited: Promise<ExitStatus>;
  /** rr: the connections handed to it and not acknowledged yet (other policies: none). */
  handoffs?: Handoffs;
  /** A user's app: its stderr, held until it listens (app/app-output.ts). */
  stderr?: StderrGate;
  /** For the transitions: settle the two promises above. */
  settle: { listened(): void; exited(status: ExitStatus): void };
}

export function newWorkerState(worker: Worker, slot: number, purpose: WorkerPurpose, now = Date.now()): WorkerState {
  let listened!: () => void;
  let exited!: (status: ExitStatus) => void;
  return {
    worker,
    pid: worker.process.pid ?? -1,
    slot,
    purpose,
    startedAt: now,
    phase: { name: 'starting' },
    listened: new Promise<void>((resolve) => (listened = resolve)),
    exited: new Promise<ExitStatus>((resolve) => (exited = resolve)),
    settle: { listened, exited },
  };
}

/** The worker's server listens. A worker already told to drain stays draining (retire() tells it now). */
export function markListening(state: WorkerState): void {
  if (state.phase.name === 'starting') state.phase = { name: 'listening' };
  state.settle.listened();
}

/** Told to finish its requests and exit. */
export function markDraining(state: WorkerState): void {
  if (state.phase.name === 'starting' || state.phase.name === 'listening') state.phase = { name: 'draining' };
}

export function markKilled(state: WorkerState, reason: KillReason): void {
  if (state.phase.name === 'exited' || state.phase.name === 'killed') return;
  state.phase = { name: 'killed', reason, wasDraining: state.phase.name === 'draining' };
}

/** Returns the phase it exited from. */
export function markExited(state: WorkerState, status: ExitStatus): WorkerPhase {
  const before = state.phase;
  state.phase = { name: 'exited', ...status };
  state.settle.exited(status);
  return before;
}

export function isListening(state: WorkerState): boolean {
  return state.phase.name === 'listening';
}

/** Where the cluster as a whole is. */
export type ClusterPhase = 'starting' | 'ready' | 'stopping' | 'failed';

/**
 * What an exit means:
 * - expected: it was told to go (draining, or killed while draining), or the cluster is stopping;
 * - fatal: a death before the cluster was ever ready (never a fork loop at start-up);
 * - replacement-failed: a reload's replacement died before listening (the reload keeps the old worker);
 * - superseded: a death of a worker its slot no longer counts on;
 * - respawn: a death to recover from; `onPurpose` (chaos) skips the backoff.
 */
export type ExitVerdict =
  | { kind: 'expected' }
  | { kind: 'fatal' }
  | { kind: 'replacement-failed' }
  | { kind: 'superseded' }
  | { kind: 'respawn'; onPurpose: boolean };

export function classifyExit(before: WorkerPhase, purpose: WorkerPurpose, cluster: ClusterPhase, currentOfSlot: boolean): ExitVerdict {
  const asked = before.name === 'draining' || (before.name === 'killed' && before.wasDraining);
  if (asked || cluster === 'stopping' || cluster === 'failed') return { kind: 'expected' };
  if (cluster === 'starting') return { kind: 'fatal' };
  if (purpose === 'reload' && before.name === 'starting') return { kind: 'replacement-failed' };
  if (!currentOfSlot) return { kind: 'superseded' };
  return { kind: 'respawn', onPurpose: before.name === 'killed' && before.reason === 'chaos' };
}
