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
  /** Overrides of node:http's timeouts, in ms; undefined keeps Node's defaults. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

export const WORKER_CONFIG_ENV = 'CLUSTER_DEMO_WORKER_CONFIG';

export type WorkerToPrimary =
  | { type: 'listening'; pid: number; host: string; port: number }
  | { type: 'listen-failed'; pid: number; code: string; message: string };

export type PrimaryToWorker = { type: 'shutdown' };

export function isWorkerMessage(value: unknown): value is WorkerToPrimary {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'listening' || type === 'listen-failed';
}

export function isPrimaryMessage(value: unknown): value is PrimaryToWorker {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'shutdown';
}
