/**
 * The rolling restart: one worker at a time, the replacement listening before the old one is told to go, so
 * there are never zero live workers. A replacement that dies before listening stops the sequence and leaves the
 * old worker serving.
 */
import { ExpectedError } from '../core/errors.js';
import type { EventBody, ReloadResult } from './cluster-api.js';

export interface ReloadableWorker {
  pid: number;
  listened: Promise<void>;
  exited: Promise<unknown>;
}

export interface ReloadSlot<W extends ReloadableWorker> {
  /** The slot's worker; undefined while a respawn is pending. */
  current?: W;
}

export interface ReloadParts<W extends ReloadableWorker> {
  slots: Array<ReloadSlot<W>>;
  isStopping(): boolean;
  /** Forks the replacement into the slot (it becomes the slot's current worker). */
  fork(slot: ReloadSlot<W>, replacing: W): W;
  /** Tells a worker to finish its requests and exit; resolves once it is gone. */
  retire(worker: W): Promise<unknown>;
  emit(event: EventBody): void;
}

/** A rolling restart that stopped: a replacement exited before it listened (the old worker keeps serving). */
export class ReloadError extends ExpectedError {
  override name = 'ReloadError';
  constructor(
    readonly oldPid: number,
    readonly newPid: number,
  ) {
    super(`reload stopped: the replacement for worker ${oldPid} (new pid ${newPid}) exited before listening; ${oldPid} keeps serving`);
  }
}

export async function rollingRestart<W extends ReloadableWorker>(parts: ReloadParts<W>): Promise<ReloadResult> {
  const { slots, emit } = parts;
  const replaced: ReloadResult['replaced'] = [];
  emit({ type: 'reload-started', pids: slots.flatMap((slot) => (slot.current ? [slot.current.pid] : [])) });
  for (const slot of slots) {
    if (parts.isStopping()) break;
    const old = slot.current;
    if (!old) continue; // a respawn is already pending for this slot
    const next = parts.fork(slot, old);
    const outcome = await Promise.race([next.listened.then(() => 'listening' as const), next.exited.then(() => 'exited' as const)]);
    if (outcome === 'exited') {
      // Keep the old worker serving: there must never be zero live workers.
      slot.current = old;
      throw new ReloadError(old.pid, next.pid);
    }
    // The new worker is listening; only now is the old one told to go.
    await parts.retire(old);
    replaced.push({ oldPid: old.pid, newPid: next.pid });
    emit({ type: 'reload-replaced', oldPid: old.pid, newPid: next.pid });
  }
  emit({ type: 'reload-finished', replaced });
  return { replaced };
}
