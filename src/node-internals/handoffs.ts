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
