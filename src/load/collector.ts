import { newLatencyHistogram, recordMs, type LatencyHistogram } from '../statistics/latency.js';

/**
 * What one attempt ended with: a response (status and who served it) or an error. Every outcome has all five
 * fields (undefined where absent), so the code handling them sees one object shape.
 */
export interface Outcome {
  status: number | undefined;
  pid: number | undefined;
  host: string | undefined;
  primaryPid: number | undefined;
  /** Why it failed: an errno such as ECONNRESET, `timeout`, … (HTTP error statuses are classified later). */
  error: string | undefined;
}

export function failure(error: string): Outcome {
  return { status: undefined, pid: undefined, host: undefined, primaryPid: undefined, error };
}

export interface WorkerTally {
  pid: number | null;
  host: string | null;
  primaryPid: number | null;
  requests: number;
  latency: LatencyHistogram;
  /** Responses per time bucket (LoadCollector.bucketMs wide), from the load's start. */
  timeline: number[];
}

/** A timeline keeps at most this many buckets: past it, neighbours merge and the buckets double in width. */
export const MAX_TIMELINE_BUCKETS = 600;

/** A failed request, kept (up to a bound) so `--chaos` can attribute it to the worker that died. */
export interface FailureRecord {
  startedAt: number;
  failedAt: number;
  cause: string;
}

const MAX_FAILURE_RECORDS = 10_000;

/**
 * Accumulates outcomes in constant memory: counters, a latency histogram per worker and overall, and at most
 * MAX_FAILURE_RECORDS failure records. No per-request arrays.
 */
export class LoadCollector {
  readonly latency = newLatencyHistogram();
  /** Keyed by host|primary|pid: the same PID on two hosts (or under two primaries) is two workers. */
  readonly workers = new Map<string, WorkerTally>();
  private readonly lastByPid = new Map<number, WorkerTally>();
  readonly statusCodes = new Map<number, number>();
  readonly errors = new Map<string, number>();
  readonly failures: FailureRecord[] = [];
  completed = 0;
  ok = 0;
  failed = 0;
  retries = 0;
  /** performance.now() when the load began: time zero of the timelines. */
  origin = 0;
  /**
   * Width of a timeline bucket, ms: 250 ms (a few seconds' run still draws a line), doubled whenever a timeline
   * would pass MAX_TIMELINE_BUCKETS (250 → 500 → 1000 ms … : 150 s, then 300 s, then 600 s …).
   */
  bucketMs = 250;
  /** Failed requests per time bucket. */
  readonly failedTimeline: number[] = [];
  /** HTTP/2: streams sent again because a GOAWAY refused them unprocessed. */
  goawayRetries = 0;
  portBackoffs = 0;

  /** One logical request (after any retries): started at `startedAt` (performance.now()), took latencyMs. */
  record(outcome: Outcome, startedAt: number, latencyMs: number): void {
    this.completed++;
    const bucket = this.bucketOf(startedAt + latencyMs);
    if (outcome.status !== undefined) this.statusCodes.set(outcome.status, (this.statusCodes.get(outcome.status) ?? 0) + 1);
    const cause = outcome.error ?? (outcome.status !== undefined && (outcome.status < 200 || outcome.status >= 400) ? `HTTP ${outcome.status}` : undefined);
    if (cause === undefined) this.ok++;
    else {
      this.failed++;
      this.errors.set(cause, (this.errors.get(cause) ?? 0) + 1);
      if (this.failures.length < MAX_FAILURE_RECORDS) this.failures.push({ startedAt, failedAt: startedAt + latencyMs, cause });
      addAt(this.failedTimeline, bucket);
    }
    recordMs(this.latency, latencyMs);
    if (outcome.status === undefined) return; // no response, so no worker to credit
    // Fast path: the worker this PID mapped to last time (no key string per request).
    let tally = outcome.pid === undefined ? undefined : this.lastByPid.get(outcome.pid);
    if (tally === undefined || tally.host !== (outcome.host ?? null) || tally.primaryPid !== (outcome.primaryPid ?? null)) {
      tally = this.tallyFor(outcome);
      if (outcome.pid !== undefined) this.lastByPid.set(outcome.pid, tally);
    }
    tally.requests++;
    addAt(tally.timeline, bucket);
    recordMs(tally.latency, latencyMs);
  }

  /** The timeline bucket of a moment (performance.now()); widens every timeline first if it would not fit. */
  private bucketOf(at: number): number {
    let bucket = Math.max(0, Math.floor((at - this.origin) / this.bucketMs));
    while (bucket >= MAX_TIMELINE_BUCKETS) {
      this.bucketMs *= 2;
      for (const tally of this.workers.values()) mergePairs(tally.timeline);
      mergePairs(this.failedTimeline);
      bucket = Math.max(0, Math.floor((at - this.origin) / this.bucketMs));
    }
    return bucket;
  }

  private tallyFor(outcome: Outcome): WorkerTally {
    const key = outcome.pid === undefined ? 'unknown' : `${outcome.host ?? ''}|${outcome.primaryPid ?? ''}|${outcome.pid}`;
    let tally = this.workers.get(key);
    if (tally === undefined) {
      tally = { pid: outcome.pid ?? null, host: outcome.host ?? null, primaryPid: outcome.primaryPid ?? null, requests: 0, latency: newLatencyHistogram(), timeline: [] };
      this.workers.set(key, tally);
    }
    return tally;
  }

  /** Requests per worker PID so far, for the live view. */
  countsByPid(): Array<{ pid: number | null; requests: number }> {
    return [...this.workers.values()].map((w) => ({ pid: w.pid, requests: w.requests }));
  }
}

function addAt(counts: number[], bucket: number): void {
  while (counts.length <= bucket) counts.push(0);
  counts[bucket]!++;
}

/** Neighbouring buckets summed, in place: [a, b, c, d, e] → [a+b, c+d, e]. */
export function mergePairs(counts: number[]): void {
  const merged = Math.ceil(counts.length / 2);
  for (let i = 0; i < merged; i++) counts[i] = counts[2 * i]! + (counts[2 * i + 1] ?? 0);
  counts.length = merged;
}
