/**
 * The primary's side of the stats: every worker's latest report, the workers that exited (their counts stay in
 * the totals, so cluster-wide counters never go backwards), the lifecycle events, restarts per slot, and the
 * two ways out: a fresh document for a stats request (every worker flushed first, so a scrape right after a
 * request counts it, and RSS, CPU and ELU are current), and pushes to the workers whose clients follow
 * /_cluster/events. Idle workers send nothing, so an idle cluster costs the primary nothing.
 */
import type { ClusterEvent } from '../cluster-api.js';
import { sendTo } from '../fork.js';
import type { PrimaryToWorker, WorkerToPrimary } from '../messages.js';
import type { SchedulingPolicy } from '../policy.js';
import type { WorkerState } from '../worker-state.js';
import { emptyWorkerCounts, workerRequests, type ClusterStatsDoc, type WorkerReport, type WorkerStats } from './document.js';

/** How long a stats request waits for the workers' flushes: a worker busy in a long request cannot answer. */
export const FLUSH_WAIT_MS = 150;
/**
 * An exact read (the probe's cross-check): every live worker's flush is waited for, up to this long. A worker
 * answers once its current request is done, and its answer comes after every count it made before it.
 */
export const EXACT_FLUSH_WAIT_MS = 10_000;
export const SNAPSHOT_INTERVAL_MS = 1_000;
const MAX_EVENTS = 50;
const MAX_EXITED = 16;

export interface PrimaryStatsInfo {
  primaryPid: number;
  policy: SchedulingPolicy;
  hostname: string;
  startedAt: number;
}

export class PrimaryStats {
  private readonly reports = new Map<number, WorkerReport>();
  private readonly restarts = new Map<number, number>();
  private readonly forksPerSlot = new Map<number, number>();
  private readonly exitedWorkers: WorkerStats[] = [];
  private readonly events: ClusterEvent[] = [];
  private readonly retired = { requests: 0, connections: 0 };
  private readonly flushes = new Map<number, { waiting: Set<number>; done: () => void }>();
  private readonly subscribers = new Set<WorkerState>();
  /** The primary's own stats routes (`--stats-port`) with clients on /_cluster/events. */
  private readonly localSubscribers = new Set<(message: Extract<PrimaryToWorker, { type: 'stats-push' }>) => void>();
  private nextFlush = 1;
  private pushTimer?: NodeJS.Timeout;

  constructor(
    private readonly info: PrimaryStatsInfo,
    private readonly live: () => WorkerState[],
  ) {}

  forked(state: WorkerState): void {
    const forks = this.forksPerSlot.get(state.slot) ?? 0;
    this.forksPerSlot.set(state.slot, forks + 1);
    this.restarts.set(state.pid, forks);
  }

  onEvent(event: ClusterEvent): void {
    this.events.push(event);
    if (this.events.length > MAX_EVENTS) this.events.shift();
    for (const subscriber of this.subscribers) sendTo(subscriber, { type: 'stats-push', event: 'lifecycle', lifecycle: event });
    for (const push of this.localSubscribers) push({ type: 'stats-push', event: 'lifecycle', lifecycle: event });
  }

  exited(state: WorkerState, status: { code: number | null; signal: string | null }): void {
    const stats = this.workerStats(state);
    stats.state = 'exited';
    stats.inFlight = 0;
    // Its sockets and streams ended with it (accepted and messages stay: they happened).
    if (stats.longLived) stats.longLived = { ws: { ...stats.longLived.ws, open: 0 }, sse: { ...stats.longLived.sse, open: 0 } };
    stats.exit = { ...status, at: Date.now() };
    this.retired.requests += stats.requests;
    this.retired.connections += stats.connections;
    this.exitedWorkers.push(stats);
    if (this.exitedWorkers.length > MAX_EXITED) this.exitedWorkers.shift();
    this.reports.delete(state.pid);
    this.restarts.delete(state.pid);
    this.unsubscribe(state);
  }

  /** A stats message of a worker; false for any other message. */
  handle(state: WorkerState, message: WorkerToPrimary): boolean {
    switch (message.type) {
      case 'stats':
        this.reports.set(state.pid, message.report);
        if (message.flush !== undefined) this.flushed(message.flush, state.pid);
        return true;
      case 'stats-request':
        void this.fresh(message.exact ? EXACT_FLUSH_WAIT_MS : FLUSH_WAIT_MS).then((doc) => sendTo(state, { type: 'stats-reply', id: message.id, doc }));
        return true;
      case 'stats-subscribe':
        this.subscribers.add(state);
        this.startPushing();
        return true;
      case 'stats-unsubscribe':
        this.unsubscribe(state);
        return true;
      default:
        return false;
    }
  }

  /** The document as the latest reports have it (counts up to a tick old; gauges as of the last report). */
  snapshot(): ClusterStatsDoc {
    const now = Date.now();
    const live = this.live().map((state) => this.workerStats(state, now));
    const sum = (key: 'requests' | 'connections') => live.reduce((total, w) => total + w[key], this.retired[key]);
    return {
      primaryPid: this.info.primaryPid,
      policy: this.info.policy,
      hostname: this.info.hostname,
      uptimeMs: now - this.info.startedAt,
      workers: [...live.sort((a, b) => a.slot - b.slot), ...[...this.exitedWorkers].reverse()],
      totals: { requests: sum('requests'), connections: sum('connections') },
      events: [...this.events],
    };
  }

  /**
   * Every live worker flushes its counters first, then the document. A scrape waits FLUSH_WAIT_MS at most (a busy
   * worker's figures may then be one tick old); an exact read waits for every worker (EXACT_FLUSH_WAIT_MS).
   */
  async fresh(waitMs = FLUSH_WAIT_MS): Promise<ClusterStatsDoc> {
    const id = this.nextFlush++;
    const asked = this.live().filter((state) => state.phase.name !== 'exited' && sendTo(state, { type: 'stats-flush', id }));
    if (asked.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.flushes.set(id, { waiting: new Set(asked.map((s) => s.pid)), done: resolve });
        timer = setTimeout(resolve, waitMs);
      });
      clearTimeout(timer);
      this.flushes.delete(id);
    }
    return this.snapshot();
  }

  /** The primary's own routes watch (push) or stop watching (undefined) the event stream. */
  watchLocal(push: (message: Extract<PrimaryToWorker, { type: 'stats-push' }>) => void, on: boolean): void {
    if (on) {
      this.localSubscribers.add(push);
      this.startPushing();
    } else {
      this.localSubscribers.delete(push);
      if (this.subscribers.size === 0 && this.localSubscribers.size === 0) this.stopPushing();
    }
  }

  private startPushing(): void {
    this.pushTimer ??= setInterval(() => this.pushSnapshot(), SNAPSHOT_INTERVAL_MS);
  }

  private stopPushing(): void {
    clearInterval(this.pushTimer);
    this.pushTimer = undefined;
  }

  close(): void {
    this.localSubscribers.clear();
    clearInterval(this.pushTimer);
    this.pushTimer = undefined;
    this.subscribers.clear();
  }

  private flushed(id: number, pid: number): void {
    const flush = this.flushes.get(id);
    if (!flush) return;
    flush.waiting.delete(pid);
    if (flush.waiting.size === 0) flush.done();
  }

  private unsubscribe(state: WorkerState): void {
    this.subscribers.delete(state);
    if (this.subscribers.size === 0 && this.localSubscribers.size === 0) this.stopPushing();
  }

  /** Someone watches the event stream: a fresh document (gauges included) for them, every second. */
  private pushSnapshot(): void {
    void this.fresh().then((doc) => {
      for (const subscriber of this.subscribers) sendTo(subscriber, { type: 'stats-push', event: 'snapshot', doc });
      for (const push of this.localSubscribers) push({ type: 'stats-push', event: 'snapshot', doc });
    });
  }

  private workerStats(state: WorkerState, now = Date.now()): WorkerStats {
    const report = this.reports.get(state.pid);
    const { at, ...counts } = report ?? { at: null, ...emptyWorkerCounts() };
    return {
      id: state.worker.id,
      pid: state.pid,
      slot: state.slot,
      state: state.phase.name,
      requests: workerRequests(counts),
      ...counts,
      restarts: this.restarts.get(state.pid) ?? 0,
      startedAt: state.startedAt,
      reportAgeMs: at === null ? null : now - at,
      exit: null,
    };
  }
}
