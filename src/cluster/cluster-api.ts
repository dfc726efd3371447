/** The cluster's public shape: options, events, the running cluster, and its start errors. */
import { ExpectedError } from '../core/errors.js';
import type { AppOptions } from '../app/app-setup.js';
import type { AppStdout } from '../app/app-output.js';
import type { BackoffOptions } from './backoff.js';
import type { SchedulingPolicy } from './policy.js';
import type { ServeProtocol } from './demo-server.js';
import type { ClusterStatsDoc } from './counts/document.js';
import type { CertificateInfo, TlsMaterial } from './tls/certificate.js';

export interface ClusterOptions {
  /** 0 picks a free port. Default 3000. */
  port?: number;
  /** Default 127.0.0.1 (not exposed to the network); 0.0.0.0 exposes it. */
  host?: string;
  /** Default os.availableParallelism(). */
  workers?: number;
  /** http (default), https (HTTP/1.1 over TLS) or h2 (HTTP/2 and HTTP/1.1 by ALPN, over TLS). */
  protocol?: ServeProtocol;
  /** https and h2: the certificate and key; without them the primary makes a self-signed one at start. */
  tls?: TlsMaterial;
  /** Node's scheduling policy; fixed for the process at the first fork. Default rr. */
  sched?: SchedulingPolicy;
  maxN?: number;
  /** The instance's name in x-hostname (default os.hostname()): several instances on one machine, as containers. */
  name?: string;
  /** How long stop() and reload() let a worker finish in-flight requests before SIGKILL, ms. Default 10 s. */
  graceMs?: number;
  /** How long to wait for every worker to listen, ms. Default 30 s (a user's app: 10 s). */
  readyTimeoutMs?: number;
  /**
   * Run a user's app as the workers instead of the demo server (`serve --app`): its entry is each worker's main
   * module, with the agent preloaded (identity headers and counts, from outside). It picks its own address:
   * `port`, `host`, `protocol`, `tls`, `maxN` and the timeouts are the demo server's and do not apply.
   * stdout: where the app's own stdout goes (default ours; the measuring commands pass "stderr").
   */
  app?: AppOptions & { stdout?: AppStdout };
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** End a keep-alive or HTTP/2 connection older than this gracefully, so clients reconnect and spread again, ms. */
  maxConnectionAgeMs?: number;
  backoff?: Partial<BackoffOptions>;
  /**
   * Per-worker counts gathered by the primary, and the routes that show them (/_cluster/stats, /_cluster/events,
   * /metrics, /dashboard). undefined: counted, and the routes answer on a loopback host only; true: the routes
   * answer on any host; false: neither.
   */
  stats?: boolean;
  /**
   * Serve the stats routes from the primary on a port of their own (0: any free one), loopback unless `stats` is
   * true; for an app that owns every path of its port. undefined: none (the demo workers answer them).
   */
  statsPort?: number;
  /** Extra node flags for the workers (e.g. --cpu-prof). Default none. */
  workerExecArgv?: string[];
  /** Every state change, as data; `serve` renders these as log lines, `probe` keeps them for its report. */
  onEvent?: (event: ClusterEvent) => void;
  /**
   * Aborted during start-up (Ctrl-C): the workers started so far are killed and startCluster rejects with
   * ClusterStartInterrupted. After start-up it has no effect: stop() is the caller's.
   */
  signal?: AbortSignal;
}

export interface WorkerInfo {
  id: number;
  pid: number;
  slot: number;
  listening: boolean;
  startedAt: number;
}

export type ClusterEvent = { at: number } & (
  /** tcpMigrateReq: with reuseport on Linux, the sysctl's value (null elsewhere or with other policies). */
  | { type: 'primary-started'; pid: number; cpus: number; workers: number; policy: SchedulingPolicy; tcpMigrateReq: 0 | 1 | null }
  | { type: 'worker-started'; pid: number; id: number; slot: number; replacing?: number }
  | { type: 'worker-listening'; pid: number; id: number; slot: number }
  /** A user's app listens on an address not seen before (an app with two servers: two of these). */
  | { type: 'app-listening'; pid: number; url: string }
  /** dashboardUrl: the live page, where the stats routes answer (else null). */
  | { type: 'ready'; url: string; listenUrl: string; pids: number[]; dashboardUrl?: string | null; protocol?: ServeProtocol; certificate?: CertificateInfo | null }
  | { type: 'worker-died'; pid: number; id: number; slot: number; code: number | null; signal: string | null; uptimeMs: number }
  | { type: 'worker-start-failed'; pid: number; slot: number; message: string }
  | { type: 'worker-respawning'; slot: number; delayMs: number; afterPid: number }
  | { type: 'worker-exited'; pid: number; id: number; code: number | null; signal: string | null }
  /** Connections the primary had handed to a worker that died before taking them: closed (see trackHandoffs). */
  | { type: 'handoffs-closed'; pid: number; count: number }
  | { type: 'worker-killed'; pid: number; reason: 'grace' | 'chaos' | 'forced' }
  | { type: 'reload-started'; pids: number[] }
  /** One step of a rolling restart: the replacement listens and the old worker is gone. */
  | { type: 'reload-replaced'; oldPid: number; newPid: number }
  | { type: 'reload-finished'; replaced: Array<{ oldPid: number; newPid: number }> }
  | { type: 'shutdown-started' }
  | { type: 'stopped'; exitCode: number }
);

export type EventBody = ClusterEvent extends infer E ? (E extends ClusterEvent ? Omit<E, 'at'> : never) : never;

export interface StopResult {
  /** 0 when every worker finished within the grace period, 1 when some had to be killed. */
  exitCode: 0 | 1;
  killedPids: number[];
}

export interface ReloadResult {
  replaced: Array<{ oldPid: number; newPid: number }>;
}

export interface RunningCluster {
  /** Where a client on this machine reaches the cluster (0.0.0.0 is reached through 127.0.0.1). */
  url: string;
  /** The address as bound, for logs: http://HOST:PORT. */
  listenUrl: string;
  host: string;
  port: number;
  policy: SchedulingPolicy;
  protocol: ServeProtocol;
  /** https and h2: the certificate every worker serves (PEM, and what a client needs to trust exactly it). */
  certificate: (CertificateInfo & { cert: string }) | null;
  primaryPid: number;
  /** The live workers, now. */
  readonly workers: WorkerInfo[];
  /** Graceful: stop respawning and accepting, let in-flight requests finish, kill what outlives the grace. */
  stop(): Promise<StopResult>;
  /** SIGKILL every worker now (the second Ctrl-C). */
  forceStop(): Promise<StopResult>;
  /** Rolling restart: one worker at a time, the new one listening before the old one is retired. */
  reload(): Promise<ReloadResult>;
  /** SIGKILL one listening worker (random unless pid is given) as a crash would; it is respawned. */
  killWorker(pid?: number): number | undefined;
  /** The cluster's counts, every worker flushed first; null with stats off. */
  stats(options?: { exact?: boolean }): Promise<ClusterStatsDoc | null>;
  /** The same from the latest reports (up to a tick old), at once; null with stats off. */
  statsSnapshot(): ClusterStatsDoc | null;
  /** Whether /_cluster/stats, /_cluster/events, /metrics and /dashboard answer. */
  statsRoutes: boolean;
  /** Where they answer: the cluster's own URL, the primary's stats port (`statsPort`), or null. */
  statsUrl: string | null;
  /** A user's app: every address it listens on, as URLs a client here can reach (`url` is the first); else []. */
  readonly appUrls: string[];
}

/** A failure to start that the user can fix (port in use, bad host, an app that does not listen): one line, no stack, exit 1. */
export class ClusterStartError extends ExpectedError {
  override name = 'ClusterStartError';
}

/** startCluster's signal fired before every worker listened; nothing it started is left. */
export class ClusterStartInterrupted extends ClusterStartError {
  override name = 'ClusterStartInterrupted';
}

/** Thrown when a second cluster in this process asks for another policy: Node fixes it at the first fork. */
export class SchedulingPolicyError extends Error {
  override name = 'SchedulingPolicyError';
}
