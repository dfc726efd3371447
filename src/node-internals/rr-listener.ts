/**
 * Under Node's public API: the listening socket of node:cluster's round-robin handle, in the primary.
 *
 * - Reaches under: wraps `net.createServer` on node:net's exports while a cluster starts (node:cluster's
 *   RoundRobinHandle calls it through that object) and keeps the `_handle` of the server that listens on the
 *   cluster's port, read in a 'listening' listener that runs before node:cluster takes the handle away.
 * - Why: under rr the primary accepts every connection and queues it until a worker is free. A graceful stop
 *   must stop accepting and still hand out that queue, but node:cluster closes the queue (the clients get a
 *   reset) as soon as the last worker stops listening, and it offers no way to stop accepting without that.
 *   Closing the listening handle itself stops the accepting and leaves the queue to be handed out.
 * - Check and fallback: nothing is captured unless a server listened on exactly the cluster's port with a
 *   handle that has `close()`; without it `stopAccepting()` returns false and the stop is the plain one (the
 *   queue of a busy cluster can be lost, as before). Closing the handle twice is harmless: node:cluster's own
 *   close later is a no-op on a closed handle.
 * - Verified by the matrix (test/drain-cluster.test.ts, queued requests under SIGTERM) on Node 20, 22, 24, 26.
 */
import net from 'node:net';

interface ListenHandle {
  close(): void;
}

export interface RoundRobinListener {
  /** Closes the primary's listening socket: no new connection is accepted. False when none was captured. */
  stopAccepting(): boolean;
  /** Stops looking (the cluster is up, or failed to start). */
  release(): void;
}

type CreateServer = typeof net.createServer;

/** Starts looking for the round-robin listener of `port` among the servers this process creates. */
export function captureRoundRobinListener(port: number): RoundRobinListener {
  const original = net.createServer;
  let handle: ListenHandle | undefined;
  let released = false;
  const wrapped = function (this: unknown, ...args: Parameters<CreateServer>) {
    const server = original.apply(this, args);
    if (!released && handle === undefined) {
      server.prependOnceListener('listening', () => {
        const address = server.address();
        const candidate = (server as unknown as { _handle?: unknown })._handle as ListenHandle | undefined;
        if (typeof address === 'object' && address?.port === port && typeof candidate?.close === 'function') handle = candidate;
      });
    }
    return server;
  } as CreateServer;
  net.createServer = wrapped;
  const release = () => {
    if (released) return;
    released = true;
    // Only undo our own wrapper: someone else may have wrapped it after us.
    if (net.createServer === wrapped) net.createServer = original;
  };
  return {
    stopAccepting() {
      release();
      if (!handle) return false;
      try {
        handle.close();
      } catch {
        return false;
      }
      return true;
    },
    release,
  };
}
