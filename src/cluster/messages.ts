/**
 * The whole conversation between the primary and its workers: a small discriminated union each way, so both
 * sides are type-checked against one definition.
 */
import type { ClusterEvent } from './cluster-api.js';
import type { ServeProtocol } from './demo-server.js';
import type { TlsMaterial } from './tls/certificate.js';
import type { ClusterStatsDoc, WorkerReport } from './counts/document.js';

/** How the primary tells a worker what to serve; passed in the worker's environment at fork time. */
export interface WorkerConfig {
  host: string;
  port: number;
  maxN: number;
  primaryPid: number;
  /** The name sent in x-hostname (`serve --name`); undefined: os.hostname(). */
  name?: string;
  protocol: ServeProtocol;
  /** https and h2: the certificate every worker serves (the user's, or the primary's self-signed one). */
  tls?: TlsMaterial;
  /** --sched reuseport: listen on a socket of its own with SO_REUSEPORT. */
  reusePort?: boolean;
  /** --sched least-conn / ip-hash: listen on nothing; serve the connections the primary hands over (balancer.ts). */
  handoff?: boolean;
  /** count: keep per-worker counters and report them; endpoints: answer /_cluster/*, /metrics, /dashboard. */
  stats: { count: boolean; endpoints: boolean };
  /** Overrides of node:http's timeouts, in ms; undefined keeps Node's defaults. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** `serve --max-connection-age`: end older connections gracefully; undefined: never. */
  maxConnectionAgeMs?: number;
}

export const WORKER_CONFIG_ENV = 'CLUSTER_DEMO_WORKER_CONFIG';

/** What the agent preloaded into a worker of a user's app (`serve --app`, app/agent.ts) is told at fork time. */
export interface AppWorkerConfig {
  primaryPid: number;
  /** The name sent in x-hostname; undefined: os.hostname(). */
  name?: string;
  /** Count the app's responses and connections and report them (stats on). */
  count: boolean;
  /** --sched reuseport: the app's TCP listens get `reusePort: true` (its own socket per worker). */
  reusePort: boolean;
  /**
   * The dashboard's origin (the primary's stats port): requests from it (their Origin header) may read the identity
   * headers and the connection (CORS and Server-Timing headers, on those requests only).
   */
  dashboardOrigin?: string;
}

export const APP_CONFIG_ENV = 'CLUSTER_DEMO_APP_CONFIG';

/**
 * Shutting down, a worker must not exit while the primary may still be handing it a connection: with the rr
 * policy, Node drops a connection it sent to a worker that exits before answering (the client hangs). So a
 * worker whose server has closed sends `drained`; the primary answers `drained-ack`, which it sends after
 * it has processed the worker's server close. Every connection handed over before that arrives first and
 * is sent back by Node to another worker. The worker then sends `exiting` and exits once that is written,
 * i.e. once its hand-backs are written too.
 */
export type WorkerToPrimary =
  /** askedPort: the port a user's app asked for (0: any free one). */
  | { type: 'listening'; pid: number; host: string; port: number; askedPort?: number }
  /** A user's app called listen() on host:port (0: any free port); 'listening' follows, or never comes. */
  | { type: 'listen-started'; pid: number; host?: string; port?: number }
  /** host and port: where it tried (a user's app chooses them; the demo worker is told them). */
  | { type: 'listen-failed'; pid: number; code: string; message: string; host?: string; port?: number }
  | { type: 'drained'; pid: number }
  | { type: 'exiting'; pid: number }
  /**
   * Stats, batched: its counters about every 250 ms (never a message per request), and at once when the
   * primary asks for a flush (`flush` repeats its id).
   */
  | { type: 'stats'; report: WorkerReport; flush?: number }
  /** A client asked this worker for the cluster's stats: the primary answers with `stats-reply`. */
  /** exact: the primary waits for every worker's flush (the probe's cross-check), not only FLUSH_WAIT_MS. */
  | { type: 'stats-request'; id: number; exact?: boolean }
  /** This worker has (or no longer has) clients on /_cluster/events: push snapshots and lifecycle events. */
  | { type: 'stats-subscribe' }
  | { type: 'stats-unsubscribe' }
  /** --sched least-conn / ip-hash: connections the primary handed over that have closed since the last one. */
  | { type: 'connections-closed'; count: number };

export type PrimaryToWorker =
  | { type: 'shutdown' }
  | { type: 'drained-ack' }
  | { type: 'stats-flush'; id: number }
  | { type: 'stats-reply'; id: number; doc: ClusterStatsDoc }
  | { type: 'stats-push'; event: 'snapshot'; doc: ClusterStatsDoc }
  | { type: 'stats-push'; event: 'lifecycle'; lifecycle: ClusterEvent };

const WORKER_TYPES = new Set<string>(['listening', 'listen-started', 'listen-failed', 'drained', 'exiting', 'stats', 'stats-request', 'stats-subscribe', 'stats-unsubscribe', 'connections-closed']);
const PRIMARY_TYPES = new Set<string>(['shutdown', 'drained-ack', 'stats-flush', 'stats-reply', 'stats-push']);

function typeOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
}

export function isWorkerMessage(value: unknown): value is WorkerToPrimary {
  const type = typeOf(value);
  return typeof type === 'string' && WORKER_TYPES.has(type);
}

export function isPrimaryMessage(value: unknown): value is PrimaryToWorker {
  const type = typeOf(value);
  return typeof type === 'string' && PRIMARY_TYPES.has(type);
}
