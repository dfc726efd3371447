/**
 * The primary's own connection balancer, for `--sched least-conn` and `--sched ip-hash` (Node's cluster offers
 * only rr and none). Public API only: the primary listens itself (`pauseOnConnect`, so no byte is read here),
 * picks a worker, and passes the socket to it over IPC (`worker.send(message, socket)`, as node:cluster's rr does
 * internally and @socket.io/sticky does in the open); the worker emits it as a connection of its server
 * (worker.ts). Each worker reports the handed connections that closed (batched per turn of its event loop), so
 * the primary knows how many each holds open now:
 *
 * - least-conn: the worker with the fewest open connections (ties: the one picked least recently), so the
 *   replacement of a dead worker takes the reconnects its clients make; rr counts what it handed out, not
 *   what is still open.
 * - ip-hash: the slot given by a hash of the client's address (FNV-1a), so one client keeps its worker (and that
 *   worker's replacement) across connections, what Socket.IO's long-polling needs; if that slot's worker is not
 *   listening, the next slot's. Behind a proxy every client has the proxy's address: everything on one worker.
 *
 * The choice is pure (pickLeastConnections, pickByAddress), tested with literal numbers.
 */
import type { Worker } from 'node:cluster';
import net from 'node:net';

export type BalancedPolicy = 'least-conn' | 'ip-hash';

export interface Candidate {
  slot: number;
  /** Connections handed to it and not reported closed. */
  open: number;
  /** When it was last picked (a counter); ties in least-conn go to the least recent. */
  lastPicked: number;
}

/** least-conn: fewest open, then least recently picked, then lowest slot. undefined: nobody to pick. */
export function pickLeastConnections<T extends Candidate>(candidates: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const c of candidates) {
    if (best === undefined || c.open < best.open || (c.open === best.open && (c.lastPicked < best.lastPicked || (c.lastPicked === best.lastPicked && c.slot < best.slot)))) best = c;
  }
  return best;
}

/** FNV-1a, 32 bits: a stable spread of addresses (not a security boundary). */
export function addressHash(address: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    hash ^= address.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * ip-hash: slot `hash % slots`; if no candidate holds that slot (its worker is starting, draining or dead), the
 * next slot up that has one, wrapping around. undefined: no candidate at all.
 */
export function pickByAddress<T extends Candidate>(candidates: readonly T[], address: string, slots: number): T | undefined {
  if (candidates.length === 0 || slots === 0) return undefined;
  const home = addressHash(address) % slots;
  for (let step = 0; step < slots; step++) {
    const found = candidates.find((c) => c.slot === (home + step) % slots);
    if (found) return found;
  }
  return candidates[0];
}

/** The message a handed connection travels with (the socket is its handle). */
export const HANDOFF_MESSAGE = { type: 'connection' } as const;

export interface BalancedWorker extends Candidate {
  worker: Worker;
}

export interface ConnectionBalancer {
  /** Listening on the cluster's address. */
  listen(port: number, host: string): Promise<void>;
  /** Stop accepting; connections waiting for a worker are still handed out. */
  stopAccepting(): void;
  /** Connections accepted and waiting for a listening worker. */
  waiting(): number;
  /** A worker reported `count` handed connections closed. */
  closed(pid: number, count: number): void;
  /** Workers became eligible (one started listening): hand out what waits. */
  flush(): void;
  /** Open connections per worker pid, as the primary counts them. */
  openByPid(): Map<number, number>;
}

/**
 * `eligible()` lists the workers that may take a connection now (listening, not draining), each with its slot;
 * `slots` is the cluster's size (ip-hash's modulus).
 */
export function createConnectionBalancer(policy: BalancedPolicy, eligible: () => Array<{ worker: Worker; slot: number }>, slots: number): ConnectionBalancer {
  const open = new Map<number, number>();
  const lastPicked = new Map<number, number>();
  let picks = 0;
  const queue: net.Socket[] = [];
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    queue.push(socket);
    handOut();
  });
  // A client that resets before it is handed over is its own business.
  server.on('connection', (socket: net.Socket) => socket.on('error', () => socket.destroy()));

  function candidates(): BalancedWorker[] {
    return eligible()
      .filter(({ worker }) => worker.isConnected())
      .map(({ worker, slot }) => ({ worker, slot, open: open.get(worker.process.pid!) ?? 0, lastPicked: lastPicked.get(worker.process.pid!) ?? -1 }));
  }

  function handOut(): void {
    while (queue.length > 0) {
      const all = candidates();
      if (all.length === 0) return;
      const socket = queue.shift()!;
      if (socket.destroyed) continue;
      const chosen = policy === 'least-conn' ? pickLeastConnections(all) : pickByAddress(all, socket.remoteAddress ?? '', slots);
      const pid = chosen!.worker.process.pid!;
      open.set(pid, (open.get(pid) ?? 0) + 1);
      lastPicked.set(pid, picks++);
      chosen!.worker.send(HANDOFF_MESSAGE, socket, (err) => {
        // The worker went away between the pick and the send: the client retries (its connection is reset).
        if (err) {
          open.set(pid, Math.max(0, (open.get(pid) ?? 1) - 1));
          socket.destroy();
        }
      });
    }
  }

  return {
    listen: (port, host) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, backlog: 511 }, () => {
          server.off('error', reject);
          resolve();
        });
      }),
    stopAccepting: () => void server.close(),
    waiting: () => queue.length,
    closed(pid, count) {
      const now = (open.get(pid) ?? 0) - count;
      if (now > 0) open.set(pid, now);
      else open.delete(pid);
    },
    flush: handOut,
    openByPid: () => new Map(open),
  };
}
