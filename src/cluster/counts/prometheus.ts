/**
 * The cluster's stats as Prometheus text exposition (version 0.0.4), rendered from the primary's aggregate: a
 * pure function, tested with a literal document.
 *
 * Why not prom-client's AggregatorRegistry: it answers a scrape by asking every worker over IPC and merging
 * their registries, and it expects the primary to serve HTTP. Here the primary already holds every worker's
 * counters (one batched report per tick) and any worker relays the scrape; rendering ~20 families from that
 * document takes a few lines, with no registry per worker and no fan-out per scrape.
 */
import { COUNTED_ROUTES, STATUS_CLASSES, type ClusterStatsDoc, type WorkerStats } from './document.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A label value, escaped as the format requires (backslash, double quote, newline). */
function label(value: string | number): string {
  return String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string | number>): string {
  const parts = Object.entries(pairs).map(([k, v]) => `${k}="${label(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge', help: string, samples: Array<[Record<string, string | number>, number]>): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [pairs, value] of samples) this.lines.push(`${name}${labels(pairs)} ${Number.isFinite(value) ? value : 0}`);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

const who = (w: WorkerStats) => ({ worker_pid: w.pid, worker_id: w.id });

/** Per slot, the restarts of its latest worker (a slot whose worker just died keeps its series). */
function restartsPerSlot(doc: ClusterStatsDoc): Array<[Record<string, string | number>, number]> {
  const slots = new Map<number, number>();
  for (const w of doc.workers) slots.set(w.slot, Math.max(slots.get(w.slot) ?? 0, w.restarts));
  return [...slots].sort((a, b) => a[0] - b[0]).map(([slot, restarts]) => [{ slot }, restarts]);
}

/** A worker's responses per route and status class: the demo's routes, or a user's app's paths. */
function routeSamples(w: WorkerStats): Array<[Record<string, string | number>, number]> {
  if (w.app) return Object.entries(w.app.byPath).flatMap(([route, counts]) => STATUS_CLASSES.map((status): [Record<string, string | number>, number] => [{ ...who(w), route, status }, counts[status]]));
  return COUNTED_ROUTES.flatMap((route) => STATUS_CLASSES.map((status): [Record<string, string | number>, number] => [{ ...who(w), route, status }, w.byRoute[route][status]]));
}

export function renderPrometheus(doc: ClusterStatsDoc): string {
  // Exited workers are left out of the per-worker families (their series end); the cluster totals keep them.
  const live = doc.workers.filter((w) => w.state !== 'exited');
  const out = new Exposition();
  const perWorker = (name: string, type: 'counter' | 'gauge', help: string, value: (w: WorkerStats) => number) =>
    out.family(name, type, help, live.map((w) => [who(w), value(w)]));

  out.family('cluster_demo_requests_total', 'counter', 'Responses per worker on each route, by status class (demo routes and "other"; the stats routes are not counted; a user\'s app: its paths, the first 32 per worker, then "other").',
    live.flatMap((w) => routeSamples(w)));
  const methods = live.filter((w) => w.app).flatMap((w) => Object.entries(w.app!.byMethod).map(([method, n]): [Record<string, string | number>, number] => [{ ...who(w), method }, n]));
  if (methods.length > 0) out.family('cluster_demo_requests_by_method_total', 'counter', "A user's app: responses per worker by request method.", methods);
  perWorker('cluster_demo_connections_total', 'counter', 'Connections accepted per worker (HTTP/2: sessions).', (w) => w.connections);
  const long = live.filter((w) => w.longLived);
  if (long.length > 0) {
    const kinds = (value: (w: WorkerStats, kind: 'ws' | 'sse') => number) =>
      long.flatMap((w) => (['ws', 'sse'] as const).map((kind): [Record<string, string | number>, number] => [{ ...who(w), kind: kind === 'ws' ? 'websocket' : 'sse' }, value(w, kind)]));
    out.family('cluster_demo_long_lived_open', 'gauge', 'Long-lived connections open now per worker: WebSockets (/ws) and event streams (/sse).', kinds((w, kind) => w.longLived![kind].open));
    out.family('cluster_demo_long_lived_accepted_total', 'counter', 'Long-lived connections accepted per worker, by kind.', kinds((w, kind) => w.longLived![kind].accepted));
    out.family('cluster_demo_websocket_messages_total', 'counter', 'WebSocket messages answered per worker.', long.map((w) => [who(w), w.longLived!.ws.messages]));
  }
  perWorker('cluster_demo_requests_in_flight', 'gauge', 'Responses started and not yet finished, per worker.', (w) => w.inFlight);
  perWorker('cluster_demo_event_loop_utilization', 'gauge', "Share of the worker's event loop busy over its last report, 0 to 1.", (w) => w.elu);
  perWorker('cluster_demo_process_resident_memory_bytes', 'gauge', 'Resident set size of the worker process.', (w) => w.rssBytes);
  perWorker('cluster_demo_process_heap_used_bytes', 'gauge', "V8 heap in use in the worker process.", (w) => w.heapUsedBytes);
  out.family('cluster_demo_process_cpu_seconds_total', 'counter', 'CPU time of the worker process, by mode.',
    live.flatMap((w): Array<[Record<string, string | number>, number]> => [[{ ...who(w), mode: 'user' }, w.cpuUserMs / 1000], [{ ...who(w), mode: 'system' }, w.cpuSystemMs / 1000]]));
  out.family('cluster_demo_worker_restarts_total', 'counter', 'Replacements forked into each worker slot (respawns after a death, and reloads).', restartsPerSlot(doc));
  perWorker('cluster_demo_worker_start_time_seconds', 'gauge', 'When the worker was forked, seconds since the epoch.', (w) => w.startedAt / 1000);
  out.family('cluster_demo_cluster_requests_total', 'counter', 'Requests on the demo routes (a user\'s app: every response) over every worker this primary ever had (exited ones included).', [[{}, doc.totals.requests]]);
  out.family('cluster_demo_cluster_connections_total', 'counter', 'Connections over every worker this primary ever had.', [[{}, doc.totals.connections]]);
  out.family('cluster_demo_workers', 'gauge', 'Workers by state.',
    (['starting', 'listening', 'draining', 'killed'] as const).map((state) => [{ state }, live.filter((w) => w.state === state).length]));
  out.family('cluster_demo_primary_info', 'gauge', 'The primary: its pid, scheduling policy and name.', [[{ primary_pid: doc.primaryPid, policy: doc.policy, hostname: doc.hostname }, 1]]);
  out.family('cluster_demo_uptime_seconds', 'gauge', 'Seconds since the primary started.', [[{}, doc.uptimeMs / 1000]]);
  return out.toString();
}
