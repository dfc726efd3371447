import type { ClusterEvent } from '../cluster/primary.js';
import type { CertificateInfo } from '../cluster/tls/certificate.js';

const POLICY_NOTE = {
  rr: 'rr (round-robin: the primary accepts each connection and hands it to the next worker)',
  none: 'none (the OS decides: every worker accepts on the shared socket)',
  reuseport: 'reuseport (each worker listens on its own socket with SO_REUSEPORT: the kernel spreads connections, the primary is out of the data path)',
  'least-conn': 'least-conn (the primary accepts each connection and hands it to the worker with the fewest open connections)',
  'ip-hash': 'ip-hash (the primary accepts each connection and hands it to the worker its client address hashes to: sticky by address)',
} as const;

/** With reuseport on Linux, what happens to the connections queued on a worker's socket when it closes. */
export function migrateNote(tcpMigrateReq: 0 | 1 | null): string[] {
  if (tcpMigrateReq === 1) return ['net.ipv4.tcp_migrate_req is 1: connections queued on a closing worker\'s socket move to another worker'];
  if (tcpMigrateReq === 0) {
    return [
      'net.ipv4.tcp_migrate_req is 0: a rolling restart or a worker\'s death resets the connections queued on that worker\'s socket; to move them to another worker instead: sysctl -w net.ipv4.tcp_migrate_req=1',
    ];
  }
  return [];
}

/**
 * The start-up and lifecycle log of `serve`, in the seed's words, as a pure function of one event. The
 * `listening on …` line appears once, when every worker listens: it is the readiness signal scripts wait for.
 */
export function formatClusterEvent(event: ClusterEvent, graceSeconds?: number): string[] {
  switch (event.type) {
    case 'primary-started':
      return [`Number of CPUs is ${event.cpus}`, `Primary ${event.pid} is running`, `Scheduling policy: ${POLICY_NOTE[event.policy]}`, ...migrateNote(event.tcpMigrateReq), `Forking ${event.workers} worker${event.workers === 1 ? '' : 's'}`];
    case 'worker-started':
      return [event.replacing ? `Worker ${event.pid} started (replacing ${event.replacing})` : `Worker ${event.pid} started`];
    case 'worker-listening':
      return [];
    case 'app-listening':
      return [`The app listens on ${event.url} (first seen from worker ${event.pid})`];
    case 'ready':
      return [
        `listening on ${event.listenUrl}${event.protocol === 'h2' ? ' (HTTP/2 and HTTP/1.1, by ALPN)' : ''}`,
        ...(event.certificate ? [certificateLine(event.certificate)] : []),
        ...(event.dashboardUrl ? [`Dashboard: ${event.dashboardUrl} (live per-worker counts; /metrics for Prometheus)`] : []),
      ];
    case 'worker-died':
      return [`Worker ${event.pid} died (${event.signal ?? `exit code ${event.code}`})`];
    case 'worker-start-failed':
      return [`Worker ${event.pid} failed to start: ${event.message}`];
    case 'worker-respawning':
      return [event.delayMs > 0 ? `Forking a replacement in ${formatDelay(event.delayMs)} (backoff: it died soon after starting)` : `Forking a replacement`];
    case 'worker-exited':
      return [`Worker ${event.pid} exited${event.code ? ` (exit code ${event.code})` : ''}`];
    case 'handoffs-closed':
      return [`Closed ${event.count} connection${event.count === 1 ? '' : 's'} handed to worker ${event.pid} that it never took (the clients get a reset they can retry, not a hang)`];
    case 'worker-killed':
      if (event.reason === 'grace') return [`Worker ${event.pid} still busy after the grace period — killed`];
      if (event.reason === 'forced') return [`Worker ${event.pid} killed (forced)`];
      return [`Worker ${event.pid} killed (chaos)`];
    case 'reload-started':
      return [`Rolling restart: replacing ${event.pids.length} worker${event.pids.length === 1 ? '' : 's'} one at a time`];
    case 'reload-replaced':
      return []; // the replacement's start and the old worker's exit are logged as they happen
    case 'reload-finished':
      return [`Rolling restart done: ${event.replaced.map((r) => `${r.oldPid} → ${r.newPid}`).join(', ') || 'nothing to replace'}`];
    case 'shutdown-started':
      return [`Shutting down: finishing in-flight requests${graceSeconds !== undefined ? ` (up to ${graceSeconds} s; Ctrl-C again to force)` : ''}`];
    case 'stopped':
      if (event.exitCode === 130) return ['Stopped while starting: the workers started so far were stopped'];
      return [event.exitCode === 0 ? 'Stopped' : 'Stopped (some workers had to be killed)'];
  }
}

function certificateLine(info: CertificateInfo): string {
  const names = info.subjectAltName?.replace(/DNS:|IP Address:/g, '') ?? 'no names';
  return `TLS: ${info.selfSigned ? 'self-signed certificate (made at start, in memory)' : 'certificate'} for ${names}; SHA-256 ${info.fingerprint256}`;
}

function formatDelay(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
