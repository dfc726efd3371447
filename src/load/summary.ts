import { jainIndex, maxMinRatio, padWithSilentWorkers, round, shares } from '../statistics/fairness.js';
import { groupByHost, hostsSeen, type HostFairness, type HostReport } from '../statistics/hosts.js';
import { summarizeLatency, type LatencySummary } from '../statistics/latency.js';
import type { LoadRecording } from './engine.js';

export interface WorkerReport {
  /** null: responses that named no PID (counted as "unknown", never dropped). */
  pid: number | null;
  host: string | null;
  primaryPid: number | null;
  requests: number;
  /** Fraction of the route's responses, 0..1. */
  share: number;
  /** null for a worker the tool knows of that answered nothing (requests 0). */
  latencyMs: { p50: number | null; p99: number | null };
}

/** A worker the tool knows runs (it started it, or the server's stats name it), whether it answered or not. */
export interface KnownWorker {
  pid: number;
  /** Its x-hostname and primary; undefined: the same as the workers that answered. */
  host?: string | null;
  primaryPid?: number | null;
}

export interface RouteReport {
  /** `/pid` or `/api/:n`. */
  route: string;
  /** The path requested, e.g. /api/12000000. */
  path: string;
  /** Requests completed (ok + failed). */
  requests: number;
  ok: number;
  failed: number;
  /** Extra attempts after connection errors (--retries); not counted as requests. */
  retries: number;
  /** HTTP/2: streams the server refused unprocessed (GOAWAY, a worker draining) and that were sent again. */
  goawayRetries: number;
  /** Failures by cause: ECONNRESET, ECONNREFUSED, timeout, HTTP 503, … */
  errors: Record<string, number>;
  statusCodes: Record<string, number>;
  /** Times the engine waited for the OS to free local ports (EADDRNOTAVAIL). */
  portBackoffs: number;
  durationMs: number;
  rps: number;
  /** What carried the requests: 'raw' (libuv TCP handle), 'net' (net.Socket), 'tls', 'undici' (keep-alive) or 'h2'. */
  transport: string;
  /** The protocol the responses came over, as negotiated. */
  protocol: 'http/1.1' | 'h2';
  latencyMs: LatencySummary;
  /**
   * Over the workers expected (those that served nothing count as 0); maxMinRatio null when one got nothing.
   * `hosts`: the same across hosts (the load balancer's level).
   */
  fairness: { jain: number; maxMinRatio: number | null; hosts: HostFairness };
  workers: WorkerReport[];
  /** Per host (x-hostname): requests, share, its primaries and how many of its workers served. */
  hosts: HostReport[];
  /** Distinct named hosts that served. */
  hostsSeen: number;
  /** Distinct known PIDs that answered. */
  workersSeen: number;
  /** null when the expected worker count is unknown (--url without --expect-workers). */
  allWorkersServed: boolean | null;
  /** Responses per worker over time (and failures), in buckets of bucketMs from startedAt (ms since the epoch). */
  timeline: RouteTimeline;
}

export interface RouteTimeline {
  startedAt: number;
  bucketMs: number;
  workers: Array<{ pid: number | null; host: string | null; primaryPid: number | null; counts: number[] }>;
  failed: number[];
}

/** Jain's index and the max/min ratio over the named workers' counts, padded with 0s up to the expected ones. */
function workerFairness(counts: readonly number[], workersExpected: number | null): { jain: number; maxMinRatio: number | null } {
  const padded = padWithSilentWorkers(counts, workersExpected ?? undefined);
  const ratio = maxMinRatio(padded);
  return { jain: round(jainIndex(padded), 4), maxMinRatio: Number.isFinite(ratio) ? round(ratio, 3) : null };
}

/**
 * The route's report with a row of 0 for every known worker that answered nothing: the silent worker is the row
 * that matters, so it is never left out (host and primary as the others', where not given). Pure.
 */
export function withSilentWorkers(report: RouteReport, known: readonly KnownWorker[], workersExpected: number | null = null): RouteReport {
  const answered = new Set(report.workers.map((w) => w.pid));
  const like = report.workers.find((w) => w.pid !== null);
  const rows = new Map<number, WorkerReport>();
  for (const k of known) {
    if (answered.has(k.pid) || rows.has(k.pid)) continue;
    rows.set(k.pid, { pid: k.pid, host: k.host ?? like?.host ?? null, primaryPid: k.primaryPid ?? like?.primaryPid ?? null, requests: 0, share: 0, latencyMs: { p50: null, p99: null } });
  }
  if (rows.size === 0) return report;
  const workers = [...report.workers, ...rows.values()].sort((a, b) => (a.pid ?? Infinity) - (b.pid ?? Infinity));
  // Fairness over every worker known to run, as over the expected ones: a silent one counts as 0.
  const fairness = workerFairness(workers.filter((w) => w.pid !== null).map((w) => w.requests), workersExpected);
  return { ...report, workers, fairness: { ...report.fairness, ...fairness } };
}

function record<K extends string | number>(map: Map<K, number>): Record<string, number> {
  return Object.fromEntries([...map].sort((a, b) => b[1] - a[1]).map(([k, v]) => [String(k), v]));
}

/** Turns one run's counters and histograms into the report that the table and JSON both render. */
export function summarizeRoute(route: string, recording: LoadRecording, workersExpected: number | null, hostsExpected: number | null = null): RouteReport {
  const c = recording.collector;
  const durationMs = recording.endedAt - recording.startedAt;
  const tallies = [...c.workers.values()].sort((a, b) => (a.pid ?? Infinity) - (b.pid ?? Infinity));
  const known = tallies.filter((t) => t.pid !== null);
  const responded = tallies.reduce((sum, t) => sum + t.requests, 0);
  const workerShares = shares(tallies.map((t) => t.requests));
  const byHost = groupByHost(tallies, hostsExpected);
  return {
    route,
    path: recording.options.path,
    requests: c.completed,
    ok: c.ok,
    failed: c.failed,
    retries: c.retries,
    goawayRetries: c.goawayRetries,
    errors: record(c.errors),
    statusCodes: record(c.statusCodes),
    portBackoffs: c.portBackoffs,
    durationMs: round(durationMs, 1),
    rps: round(durationMs > 0 ? (c.completed * 1000) / durationMs : 0, 1),
    transport: recording.transport,
    protocol: recording.protocol,
    latencyMs: summarizeLatency(c.latency),
    fairness: { ...workerFairness(known.map((t) => t.requests), workersExpected), hosts: byHost.fairness },
    workers: tallies.map((t, i) => {
      const latency = summarizeLatency(t.latency);
      return { pid: t.pid, host: t.host, primaryPid: t.primaryPid, requests: t.requests, share: responded === 0 ? 0 : round(workerShares[i]!, 4), latencyMs: { p50: latency.p50, p99: latency.p99 } };
    }),
    hosts: byHost.hosts,
    hostsSeen: hostsSeen(byHost.hosts),
    workersSeen: known.length,
    allWorkersServed: workersExpected === null ? null : known.length >= workersExpected,
    timeline: {
      startedAt: recording.wallStartedAt,
      bucketMs: c.bucketMs,
      workers: tallies.map((t) => ({ pid: t.pid, host: t.host, primaryPid: t.primaryPid, counts: [...t.timeline] })),
      failed: [...c.failedTimeline],
    },
  };
}
