/**
 * The three ways a cluster's workers can share a port, and what this Node and this kernel support.
 *
 * - rr: the primary accepts every connection and hands it to the next worker over IPC (Node's default).
 * - none: every worker accepts on one shared listening socket; the kernel wakes one of them.
 * - reuseport: each worker listens on its own socket with SO_REUSEPORT (Node ≥ 22.12 / 23.1,
 *   `listen({ reusePort: true })`, which a cluster worker binds itself); the kernel spreads new connections over
 *   the sockets and the primary is out of the data path.
 * - least-conn: the primary accepts every connection and hands it to the worker with the fewest open (ours:
 *   balancer.ts, over Node's public API).
 * - ip-hash: the primary accepts every connection and hands it to the worker its client's address hashes to
 *   (sticky by address, what Socket.IO's long-polling needs).
 */
import { readFileSync } from 'node:fs';

export type SchedulingPolicy = 'rr' | 'none' | 'reuseport' | 'least-conn' | 'ip-hash';
export const SCHED_POLICIES: readonly SchedulingPolicy[] = ['rr', 'none', 'reuseport', 'least-conn', 'ip-hash'];

/** The policies whose primary picks the worker itself (balancer.ts): the workers do not listen on the port. */
export function isBalancedPolicy(policy: SchedulingPolicy): policy is 'least-conn' | 'ip-hash' {
  return policy === 'least-conn' || policy === 'ip-hash';
}

/** Whether `listen({ reusePort: true })` exists in this Node: 22.12+, 23.1+, 24 and later. */
export function supportsReusePort(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** The one line for a Node without reusePort; null when it is supported. */
export function reusePortUnsupported(version: string = process.versions.node): string | null {
  return supportsReusePort(version) ? null : `--sched reuseport needs Node.js 22.12 or newer (23.1+ on the 23 line); this is v${version.replace(/^v/, '')}`;
}

/**
 * Linux's net.ipv4.tcp_migrate_req (kernel 5.14+): 1 moves the connections queued on a closing SO_REUSEPORT
 * socket to another socket of the group; 0 resets them. null where the file does not exist.
 */
export function readTcpMigrateReq(file = '/proc/sys/net/ipv4/tcp_migrate_req'): 0 | 1 | null {
  try {
    return readFileSync(file, 'utf8').trim() === '1' ? 1 : 0;
  } catch {
    return null;
  }
}
