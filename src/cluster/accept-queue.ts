/**
 * How many connections wait in the kernel's accept queue of the listening sockets on a port (Linux: the
 * rx_queue of a LISTEN line in /proc/net/tcp and tcp6 is the accept queue's current length). A draining worker
 * under `--sched none` or `reuseport` accepts at most that many more before it stops listening: the clients of
 * those connections have sent their requests already, and a closed socket would reset them.
 */
import fs from 'node:fs';

const LISTEN = '0A';

/** Sum of the accept queues on `port` in one /proc/net/tcp* text; pure, for the tests. */
export function acceptQueueLength(procNetTcp: string, port: number): number {
  let total = 0;
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const queues = fields[4];
    if (fields[3] !== LISTEN || !local || !queues) continue;
    if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) !== port) continue;
    total += Number.parseInt(queues.slice(queues.indexOf(':') + 1), 16) || 0;
  }
  return total;
}

/** `count` summed over /proc/net/tcp and tcp6 now; null where neither can be read (not Linux). */
function overProcNetTcp(count: (procNetTcp: string) => number): number | null {
  let found = false;
  let total = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      total += count(fs.readFileSync(file, 'utf8'));
      found = true;
    } catch {
      // No such file (not Linux, or IPv6 off).
    }
  }
  return found ? total : null;
}

/** The accept queue on `port` now; null where /proc/net/tcp cannot be read (not Linux). */
export function pendingConnections(port: number): number | null {
  return overProcNetTcp((text) => acceptQueueLength(text, port));
}

/** Listening sockets on `port` in one /proc/net/tcp* text (SO_REUSEPORT: one per worker; shared: one); pure. */
export function listeningSocketCount(procNetTcp: string, port: number): number {
  let count = 0;
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (fields[3] === LISTEN && local && Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) count++;
  }
  return count;
}

/** The listening sockets on `port` now; null where /proc/net/tcp cannot be read. */
export function listeningSockets(port: number): number | null {
  return overProcNetTcp((text) => listeningSocketCount(text, port));
}
