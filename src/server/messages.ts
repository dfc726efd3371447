/**
 * The whole conversation between the primary and its workers: a small discriminated union each way, so both
 * sides are type-checked against one definition.
 */

/** How the primary tells a worker what to serve; passed in the worker's environment at fork time. */
export interface WorkerConfig {
  host: string;
  port: number;
  maxN: number;
  primaryPid: number;
  /** The name sent in x-hostname (`serve --name`); undefined: os.hostname(). */
  name?: string;
  /** --sched reuseport: listen on a socket of its own with SO_REUSEPORT. */
  reusePort?: boolean;
  /** Overrides of node:http's timeouts, in ms; undefined keeps Node's defaults. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

export const WORKER_CONFIG_ENV = 'CLUSTER_DEMO_WORKER_CONFIG';

/**
 * Shutting down, a worker must not exit while the primary may still be handing it a connection: with the rr
 * policy, Node drops a connection it sent to a worker that exits before answering (the client hangs). So a
 * worker whose server has closed sends `drained`; the primary answers `drained-ack`, which it sends after
 * it has processed the worker's server close. Every connection handed over before that arrives first and
 * is sent back by Node to another worker. The worker then sends `exiting` and exits once that is written,
 * i.e. once its hand-backs are written too.
 */
export type WorkerToPrimary =
  | { type: 'listening'; pid: number; host: string; port: number }
  | { type: 'listen-failed'; pid: number; code: string; message: string }
  | { type: 'drained'; pid: number }
  | { type: 'exiting'; pid: number };

export type PrimaryToWorker = { type: 'shutdown' } | { type: 'drained-ack' };

export function isWorkerMessage(value: unknown): value is WorkerToPrimary {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'listening' || type === 'listen-failed' || type === 'drained' || type === 'exiting';
}

export function isPrimaryMessage(value: unknown): value is PrimaryToWorker {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'shutdown' || type === 'drained-ack';
}
