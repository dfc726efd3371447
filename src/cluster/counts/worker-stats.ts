/**
 * A worker's side of the stats: cheap counters the request handler bumps (two lookups and an increment per
 * request), and the channel to the primary: one batched report per 250 ms tick while requests or connections
 * come in, one more after they stop (its gauges, event-loop utilisation included, then describe the quiet), a
 * report at once when the primary asks (a flush: its gauges are fresh then), and the primary's answers for the
 * stats routes. Never a message per request.
 *
 * An idle worker has no timer at all: the tick is armed by activity, not free-running. On this project's 2-core
 * VM every wake-up of an idle Node process costs several ms of CPU (a bare 250 ms setInterval: ~30 ms of CPU
 * per second), so a free-running tick made an idle cluster measurably busy (bench row 7c).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { PrimaryToWorker, WorkerToPrimary } from '../messages.js';
import { emptyRouteCounts, type AppRequestCounts, type LongLivedCounts, type ClusterStatsDoc, type CountedRoute, type StatusClass, type WorkerReport } from './document.js';

export const REPORT_INTERVAL_MS = 250;
/** How long a stats request waits for the primary; an exact one lets the primary wait for every worker first. */
const REQUEST_TIMEOUT_MS = 2_000;
const EXACT_REQUEST_TIMEOUT_MS = 12_000;

export function statusClass(status: number): StatusClass {
  return status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx';
}

/** What the request handler counts. */
export interface RequestCounter {
  count(route: CountedRoute, status: number): void;
}

/** What the worker's server knows that the counters do not: connections accepted, responses still being written. */
export interface WorkerGauges {
  connections(): number;
  inFlight(): number;
  /** The demo server's WebSockets and event streams (long-lived.ts). */
  longLived?(): LongLivedCounts;
}

type Send = (message: WorkerToPrimary) => void;

export class WorkerStats implements RequestCounter {
  readonly byRoute = emptyRouteCounts();
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastSentTotal = -1;
  /** The next tick, armed by activity; undefined when idle. */
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (doc: ClusterStatsDoc) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  /** Set by the events endpoint: pushes from the primary go to its clients. */
  onPush?: (message: Extract<PrimaryToWorker, { type: 'stats-push' }>) => void;

  constructor(
    private readonly send: Send,
    private readonly gauges: WorkerGauges,
    /** `serve --app`: the app's responses, counted by the agent (app/agent.ts). */
    readonly app?: {
      total: number;
      snapshot(): AppRequestCounts;
      /** Count what finished since (the agent counts finished responses late): before every report. */
      settle?(): void;
    },
  ) {}

  count(route: CountedRoute, status: number): void {
    this.byRoute[route][statusClass(status)]++;
    if (this.timer === undefined) this.touch();
  }

  /** Something happened (a request counted, a connection accepted): a report goes out within one tick. */
  touch(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setTimeout(() => this.tick(), REPORT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Listening: the first report (the primary learns the worker's gauges), then quiet until something happens. */
  start(): void {
    this.touch();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  report(): WorkerReport {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const now = performance.eventLoopUtilization();
    const elu = performance.eventLoopUtilization(now, this.elu).utilization;
    this.elu = now;
    return {
      byRoute: this.byRoute,
      ...(this.app ? { app: this.app.snapshot() } : {}),
      connections: this.gauges.connections(),
      ...(this.gauges.longLived ? { longLived: copyLongLived(this.gauges.longLived()) } : {}),
      inFlight: this.gauges.inFlight(),
      elu: Number.isFinite(elu) ? Math.round(elu * 1000) / 1000 : 0,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      cpuUserMs: Math.round(cpu.user / 1000),
      cpuSystemMs: Math.round(cpu.system / 1000),
      at: Date.now(),
    };
  }

  /**
   * Sends a report. When something was counted since the last one, one more tick follows: it carries the next
   * counts, or, if none came, the trailing report of a worker gone quiet, after which the timer stays off.
   */
  private tick(): void {
    this.timer = undefined;
    this.app?.settle?.();
    const changed = this.activity() !== this.lastSentTotal;
    this.sendReport();
    if (changed) this.touch();
  }

  private activity(): number {
    const long = this.gauges.longLived?.();
    const longActivity = long ? long.ws.open + long.ws.accepted + long.ws.messages + long.sse.open + long.sse.accepted : 0;
    return this.gauges.connections() + totalOf(this.byRoute) + (this.app?.total ?? 0) + longActivity;
  }

  sendReport(flush?: number): void {
    this.app?.settle?.();
    this.lastSentTotal = this.activity();
    this.send(flush === undefined ? { type: 'stats', report: this.report() } : { type: 'stats', report: this.report(), flush });
  }

  /** The cluster's document, from the primary (which flushes every worker first). */
  request(exact = false): Promise<ClusterStatsDoc> {
    const id = this.nextId++;
    return new Promise<ClusterStatsDoc>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the primary did not answer'));
      }, exact ? EXACT_REQUEST_TIMEOUT_MS : REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.send(exact ? { type: 'stats-request', id, exact } : { type: 'stats-request', id });
    });
  }

  /** A message from the primary about stats; false for any other message. */
  handle(message: PrimaryToWorker): boolean {
    switch (message.type) {
      case 'stats-flush':
        this.sendReport(message.id);
        return true;
      case 'stats-reply': {
        const waiting = this.pending.get(message.id);
        if (waiting) {
          clearTimeout(waiting.timer);
          this.pending.delete(message.id);
          waiting.resolve(message.doc);
        }
        return true;
      }
      case 'stats-push':
        this.onPush?.(message);
        return true;
      default:
        return false;
    }
  }
}

function copyLongLived(counts: LongLivedCounts): LongLivedCounts {
  return { ws: { ...counts.ws }, sse: { ...counts.sse } };
}

function totalOf(byRoute: WorkerStats['byRoute']): number {
  let sum = 0;
  for (const route of Object.values(byRoute)) for (const n of Object.values(route)) sum += n;
  return sum;
}
