/**
 * The cluster's own view of itself, gathered by the primary: what `/_cluster/stats` answers, what
 * `/_cluster/events` pushes and `/metrics` renders, whichever worker receives the request.
 */
import type { ClusterEvent } from '../cluster-api.js';
import type { SchedulingPolicy } from '../policy.js';

/** The routes a worker counts separately; `requests` sums the first three (the demo routes). */
export const COUNTED_ROUTES = ['/', '/pid', '/api/:n', 'other'] as const;
export type CountedRoute = (typeof COUNTED_ROUTES)[number];
export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** Responses by route and status class: `byRoute['/pid']['2xx']`. */
export type RouteCounts = Record<CountedRoute, Record<StatusClass, number>>;

/**
 * A user's app (`serve --app`): its responses by path (the first APP_PATH_LIMIT paths a worker saw, then "other")
 * and status class, and by method; counted from outside, through node:diagnostics_channel (app/agent.ts).
 */
export interface AppRequestCounts {
  byPath: Record<string, Record<StatusClass, number>>;
  byMethod: Record<string, number>;
}

/** Long-lived connections of the demo server (/ws, /sse): open now, accepted so far; WebSocket messages answered. */
export interface LongLivedCounts {
  ws: { open: number; accepted: number; messages: number };
  sse: { open: number; accepted: number };
}

/** A worker's counters and gauges, as it reports them: cumulative counts, never deltas. */
export interface WorkerCounts {
  /** The demo server's routes (all zero under `serve --app`). */
  byRoute: RouteCounts;
  /** `serve --app` only: the app's responses. */
  app?: AppRequestCounts;
  /** Connections accepted (HTTP/2: sessions). */
  connections: number;
  /** The demo server's WebSockets and event streams (not under `serve --app`). */
  longLived?: LongLivedCounts;
  /** Responses started and not yet finished (the live streams of /_cluster/events excluded). */
  inFlight: number;
  /** Event-loop utilisation since the previous report, 0..1. */
  elu: number;
  rssBytes: number;
  heapUsedBytes: number;
  cpuUserMs: number;
  cpuSystemMs: number;
}

/** What a worker sends the primary, every 250 ms while it has traffic (and when asked to flush). */
export interface WorkerReport extends WorkerCounts {
  /** Date.now() when it was taken. */
  at: number;
}

export type WorkerStatsState = 'starting' | 'listening' | 'draining' | 'killed' | 'exited';

/** One worker in the primary's view: its latest counts, with what the primary knows of its life. */
export interface WorkerStats extends WorkerCounts {
  id: number;
  pid: number;
  slot: number;
  state: WorkerStatsState;
  /** Requests answered on the demo routes (/, /pid, /api/:n; the stats routes are not counted), or every response of a user's app. */
  requests: number;
  /** Workers forked into this worker's slot before it: 0 for the first, 1 for its first replacement… */
  restarts: number;
  startedAt: number;
  /** How old its latest report is, ms (a worker busy with a long request cannot report); null: none yet. */
  reportAgeMs: number | null;
  /** For an exited worker: how it ended. */
  exit: { code: number | null; signal: string | null; at: number } | null;
}

export interface ClusterStatsDoc {
  primaryPid: number;
  policy: SchedulingPolicy;
  /** The instance's name (x-hostname): `serve --name`, else the machine's hostname. */
  hostname: string;
  uptimeMs: number;
  /** Live workers, then the most recently exited ones. */
  workers: WorkerStats[];
  /** Over every worker this primary ever had: monotone. */
  totals: { requests: number; connections: number };
  /** The latest lifecycle events, oldest first. */
  events: ClusterEvent[];
}

export function emptyRouteCounts(): RouteCounts {
  const counts = {} as RouteCounts;
  for (const route of COUNTED_ROUTES) counts[route] = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  return counts;
}

/** A worker that has not reported yet. */
export function emptyWorkerCounts(): WorkerCounts {
  return { byRoute: emptyRouteCounts(), connections: 0, inFlight: 0, elu: 0, rssBytes: 0, heapUsedBytes: 0, cpuUserMs: 0, cpuSystemMs: 0 };
}

/** Requests on the demo routes (every status class). */
export function demoRequests(byRoute: RouteCounts): number {
  let sum = 0;
  for (const route of ['/', '/pid', '/api/:n'] as const) for (const cls of STATUS_CLASSES) sum += byRoute[route][cls];
  return sum;
}

/** Requests a worker answered: on the demo routes, or every response of a user's app. */
export function workerRequests(counts: Pick<WorkerCounts, 'byRoute' | 'app'>): number {
  let sum = demoRequests(counts.byRoute);
  if (counts.app) for (const path of Object.values(counts.app.byPath)) for (const cls of STATUS_CLASSES) sum += path[cls];
  return sum;
}
