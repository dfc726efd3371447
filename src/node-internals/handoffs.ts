/**
 * Under Node's public API: node:cluster's internal IPC messages for rr's connection hand-offs.
 *
 * - Reaches under: the worker's `process.send` (wrapped) and the `internalMessage` event, reading node:cluster's
 *   `{ cmd: 'NODE_CLUSTER', act: 'newconn', seq }` and its `{ ack }` reply.
 * - Why: a connection handed to a worker that dies before acknowledging it is never closed by Node; the client
 *   hangs. Tracked here, such connections are closed when the worker exits, and again when its channel ends
 *   (fork.ts: a dead worker is handed connections until then), a reset the client can retry.
 * - Check and fallback: a message of any other shape is passed through untouched and nothing is tracked;
 *   without a `send` function the wrapper is not installed and closeOrphans() closes nothing.
 * - Verified by the matrix (test/node-internals.test.ts) on Node 20, 22, 24 and 26.
 */
import type { Worker } from 'node:cluster';

interface HandleLike {
  close(): void;
}

interface ClusterInternalMessage {
  cmd?: unknown;
  act?: unknown;
  seq?: unknown;
  ack?: unknown;
}

/**
 * With the rr policy the primary accepts each connection and sends it to a worker over IPC (node:cluster's
 * `newconn`), closing its own copy only when the worker acknowledges it. If the worker dies first (a crash,
 * `--chaos`), Node never closes that copy: the client waits forever on a socket nobody will read. So the
 * hand-offs a worker has not acknowledged yet are tracked here, and closed when it exits: the client gets a
 * reset, which it can retry, instead of a hang. This wraps the worker's `process.send` (which node:cluster
 * calls for every hand-off) and reads node:cluster's internal ack messages; with anything unexpected it
 * tracks nothing and changes nothing.
 */
export interface Handoffs {
  /** Closes the hand-offs the worker never acknowledged (it has exited); how many there were. */
  closeOrphans(): number;
  /**
   * Hand-offs sent and not acknowledged yet. A listening worker at 0 is on rr's free list, and rr keeps a
   * worker free only while its queue is empty: 0 on any listening worker means the primary holds no connection.
   */
  pending(): number;
  /** `fn` runs after each acknowledgement, once node:cluster has handed the worker its next connection, if any. */
  onAcknowledged(fn: () => void): void;
}

export function trackHandoffs(worker: Worker): Handoffs {
  const unacknowledged = new Map<number, HandleLike>();
  const listeners: (() => void)[] = [];
  const child = worker.process as unknown as { send: (...args: unknown[]) => boolean; on(event: 'internalMessage', listener: (message: unknown) => void): void };
  const send = child.send;
  if (typeof send === 'function') {
    // Fixed arity (ChildProcess.send reads its optional arguments by type, so undefined ones are as absent): a rest
    // parameter would allocate an array for every hand-off.
    child.send = function (this: unknown, message: unknown, handle?: unknown, options?: unknown, callback?: unknown) {
      const m = message as ClusterInternalMessage | null;
      if (m && m.cmd === 'NODE_CLUSTER' && m.act === 'newconn' && typeof m.seq === 'number' && handle && typeof (handle as HandleLike).close === 'function') {
        unacknowledged.set(m.seq, handle as HandleLike);
      }
      return send.call(this, message, handle, options, callback);
    };
    child.on('internalMessage', (message) => {
      const m = message as ClusterInternalMessage | null;
      if (m && m.cmd === 'NODE_CLUSTER' && typeof m.ack === 'number') {
        unacknowledged.delete(m.ack);
        // node:cluster's own listener (added at fork, before this one) may have sent the next hand-off just now.
        for (const fn of listeners) fn();
      }
    });
  }
  return {
    closeOrphans() {
      const count = unacknowledged.size;
      for (const handle of unacknowledged.values()) {
        try {
          handle.close();
        } catch {
          // Already closed.
        }
      }
      unacknowledged.clear();
      return count;
    },
    pending: () => unacknowledged.size,
    onAcknowledged: (fn) => listeners.push(fn),
  };
}
