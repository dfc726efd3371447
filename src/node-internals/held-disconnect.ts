/**
 * Under Node's public API: node:cluster's clean-up of a dead worker, triggered by emitting the 'disconnect' Node
 * held back.
 *
 * - Reaches under: `worker.process.emit('disconnect')` on a ChildProcess that has closed.
 * - Why: see below; without it the dead Worker stays in cluster.workers and in rr's round robin for good.
 * - Check and fallback: only when the worker is still listed, isDead() and !isConnected() one tick after its
 *   'close'; where Node behaves, none of that holds and nothing is emitted.
 * - Verified by the matrix (test/node-internals.test.ts, a helper that holds the channel open) on 20, 22, 24, 26.
 */
import type { Worker } from 'node:cluster';

/**
 * node:cluster forgets a worker once its process has both exited and disconnected. A worker that dies holding a
 * handle it never acknowledged (rr's hand-off, or the listen handle under none), and whose exit the primary
 * sees before the end of its IPC channel, never gets its 'disconnect': Node waits for an ACK that a dead process
 * cannot send. node:cluster then keeps the dead Worker in cluster.workers, and in its round-robin handle, for
 * good (seen under --chaos on every line, 20 to 26). So once the process has closed (exited, channel ended), a
 * worker that is still listed gets the 'disconnect' Node held back, which runs node:cluster's own clean-up.
 * Where Node gets it right, the worker is gone by then and nothing happens.
 */
export function forgetWhenClosed(worker: Worker, listed: () => Record<number, Worker | undefined> | undefined): void {
  worker.process.once('close', () => {
    // In the normal order Node's own 'disconnect' comes on a later tick than 'close': let it come first.
    setImmediate(() => {
      if (listed()?.[worker.id] === worker && worker.isDead() && !worker.isConnected()) worker.process.emit('disconnect');
    });
  });
}
