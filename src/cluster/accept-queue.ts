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

/**
 * Where the first line that is not a LISTEN line starts in the text of /proc/net/tcp* read so far (after its
 * header); null while every complete line is a LISTEN line. Pure, for the tests.
 */
export function endOfListenLines(text: string): number | null {
  let start = text.indexOf('\n') + 1;
  if (start === 0) return null;
  for (let end = text.indexOf('\n', start); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
    if (text.slice(start, end).trim().split(/\s+/)[3] !== LISTEN) return start;
  }
  return null;
}

const CHUNK = 16 * 1024;

/**
 * The header and the LISTEN lines of one /proc/net/tcp* file, read only as far as they go. The kernel lists the
 * listening sockets before every other (tcp_seq_start in net/ipv4/tcp_ipv4.c walks the listening hash, then the
 * established one, TIME_WAIT sockets included) and writes the file as it is read. After connection-per-request
 * load it holds tens of thousands of TIME_WAIT lines (31,233 seen here, 90 ms to read whole, as long again to
 * split), all after the few lines wanted: a draining worker read them all, its loop blocked meanwhile.
 */
function readListenLines(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK);
    let text = '';
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, CHUNK, null);
      if (read === 0) return text;
      text += buffer.toString('latin1', 0, read);
      const end = endOfListenLines(text);
      if (end !== null) return text.slice(0, end);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** `count` summed over the LISTEN lines of /proc/net/tcp and tcp6 now; null where neither can be read (not Linux). */
function overProcNetTcp(count: (procNetTcp: string) => number): number | null {
  let found = false;
  let total = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      total += count(readListenLines(file));
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
