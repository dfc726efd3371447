/**
 * A worker's side of the stats: cheap counters the request handler bumps (two lookups and an increment per
 * request), and the channel to the primary: one batched report per 250 ms tick when something was counted
 * (nothing at all when idle), a report at once when the primary asks (a flush: its gauges are fresh then), and
 * the primary's answers for the stats routes. Never a message per request.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { PrimaryToWorker, WorkerToPrimary } from '../messages.js';
import { emptyRouteCounts, type ClusterStatsDoc, type CountedRoute, type StatusClass, type WorkerReport } from './document.js';

export const REPORT_INTERVAL_MS = 250;
const REQUEST_TIMEOUT_MS = 2_000;

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
}

type Send = (message: WorkerToPrimary) => void;

export class WorkerStats implements RequestCounter {
  readonly byRoute = emptyRouteCounts();
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastSentTotal = -1;
  private timer?: NodeJS.Timeout;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (doc: ClusterStatsDoc) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  /** Set by the events endpoint: pushes from the primary go to its clients. */
  onPush?: (message: Extract<PrimaryToWorker, { type: 'stats-push' }>) => void;

  constructor(
    private readonly send: Send,
    private readonly gauges: WorkerGauges,
  ) {}

  count(route: CountedRoute, status: number): void {
    this.byRoute[route][statusClass(status)]++;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), REPORT_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  report(): WorkerReport {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const now = performance.eventLoopUtilization();
    const elu = performance.eventLoopUtilization(now, this.elu).utilization;
    this.elu = now;
    return {
      byRoute: this.byRoute,
      connections: this.gauges.connections(),
      inFlight: this.gauges.inFlight(),
      elu: Number.isFinite(elu) ? Math.round(elu * 1000) / 1000 : 0,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      cpuUserMs: Math.round(cpu.user / 1000),
      cpuSystemMs: Math.round(cpu.system / 1000),
      at: Date.now(),
    };
  }

  /** Sends a report when something was counted since the last one; an idle worker sends nothing. */
  private tick(): void {
    if (this.gauges.connections() + totalOf(this.byRoute) !== this.lastSentTotal) this.sendReport();
  }

  sendReport(flush?: number): void {
    this.lastSentTotal = this.gauges.connections() + totalOf(this.byRoute);
    this.send(flush === undefined ? { type: 'stats', report: this.report() } : { type: 'stats', report: this.report(), flush });
  }

  /** The cluster's document, from the primary (which flushes every worker first). */
  request(): Promise<ClusterStatsDoc> {
    const id = this.nextId++;
    return new Promise<ClusterStatsDoc>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the primary did not answer'));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ type: 'stats-request', id });
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

function totalOf(byRoute: WorkerStats['byRoute']): number {
  let sum = 0;
  for (const route of Object.values(byRoute)) for (const n of Object.values(route)) sum += n;
  return sum;
}
