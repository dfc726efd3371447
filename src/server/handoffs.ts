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
export function trackHandoffs(worker: Worker): { closeOrphans(): number } {
  const unacknowledged = new Map<number, HandleLike>();
  const child = worker.process as unknown as { send: (...args: unknown[]) => boolean; on(event: 'internalMessage', listener: (message: unknown) => void): void };
  const send = child.send;
  if (typeof send === 'function') {
    child.send = function (this: unknown, message: unknown, handle?: unknown, ...rest: unknown[]) {
      const m = message as ClusterInternalMessage | null;
      if (m && m.cmd === 'NODE_CLUSTER' && m.act === 'newconn' && typeof m.seq === 'number' && handle && typeof (handle as HandleLike).close === 'function') {
        unacknowledged.set(m.seq, handle as HandleLike);
      }
      return send.call(this, message, handle, ...rest);
    };
    child.on('internalMessage', (message) => {
      const m = message as ClusterInternalMessage | null;
      if (m && m.cmd === 'NODE_CLUSTER' && typeof m.ack === 'number') unacknowledged.delete(m.ack);
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
  };
}

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
