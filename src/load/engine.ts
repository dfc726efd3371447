/**
 * The load engine: `concurrency` lanes issue requests through one Sender, chosen once per run:
 *
 * - a new connection per request (close-mode.ts, the default): what shows the cluster's balancing;
 * - HTTP/1.1 keep-alive (keep-alive.ts): reused connections, each pinned to the worker that accepted it;
 * - HTTP/2 (h2.ts): streams multiplexed over a few sessions, each pinned to one worker too.
 *
 * Outcomes go into a LoadCollector (constant memory); the engine never prints.
 */
import { performance } from 'node:perf_hooks';
import { openCloseModeSender } from './close-mode.js';
import { LoadCollector, type Outcome } from './collector.js';
import { openH2Sender } from './h2.js';
import { openKeepAliveSender } from './keep-alive.js';
import type { HttpProtocol, Sender, UsedTransport } from './sender.js';

export type { HttpProtocol, UsedTransport } from './sender.js';
export { sniName } from './close-mode.js';

export type Transport = 'raw' | 'net';

export interface LoadOptions {
  /** Base URL of the server, http or https; `path` is sent as it is (the caller adds any prefix). */
  target: URL;
  path: string;
  concurrency: number;
  /** Stop after this many requests … */
  requests?: number;
  /** … or after this long (ms); whichever is given. */
  durationMs?: number;
  keepAlive: boolean;
  /** Keep-alive only: the pool's socket cap (default: concurrency). */
  connections?: number;
  timeoutMs: number;
  /** Connection errors (reset, refused) retried on a new connection, per request. */
  retries: number;
  /** Close mode over http only: libuv handles directly (default where available) or net.Socket. */
  transport?: Transport;
  /** https: accept a certificate that does not verify (self-signed, wrong name). */
  insecure?: boolean;
  /** https: trust exactly this certificate (PEM), e.g. the in-process cluster's self-signed one. */
  ca?: string;
  /** http/1.1 (default) or h2: streams over `connections` HTTP/2 sessions (default 1). */
  protocol?: HttpProtocol;
  /** Keep issuing requests (past `requests`/`durationMs`) until this settles, e.g. a reload under load. */
  holdOpenUntil?: Promise<unknown>;
  /** Aborting stops issuing new requests; in-flight ones finish. */
  signal?: AbortSignal;
}

export interface LoadProgress {
  path: string;
  completed: number;
  total?: number;
  elapsedMs: number;
  durationMs?: number;
  ok: number;
  failed: number;
  perPid: Array<{ pid: number | null; requests: number }>;
}

export interface LoadObserver {
  onProgress?(progress: LoadProgress): void;
  /** One-line notices worth showing once (e.g. ephemeral port exhaustion). */
  onNotice?(line: string): void;
}

export interface LoadRecording {
  options: LoadOptions;
  collector: LoadCollector;
  /** performance.now() at start and end. */
  startedAt: number;
  endedAt: number;
  /** Date.now() at start, for lining up with cluster events. */
  wallStartedAt: number;
  /** process.cpuUsage() over the same window as startedAt..endedAt (µs): what sending cost this process. */
  cpu: { user: number; system: number };
  transport: UsedTransport;
  protocol: HttpProtocol;
}

/** Connection errors worth a retry: the request never reached a handler (or the handler's process died). */
const RETRYABLE = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'closed before response']);
const PORT_EXHAUSTED = 'EADDRNOTAVAIL';
const PROGRESS_INTERVAL_MS = 200;
const PORT_NOTICE = 'ran out of local ports (EADDRNOTAVAIL): backing off and retrying; for long runs widen net.ipv4.ip_local_port_range or set net.ipv4.tcp_tw_reuse=1';

/** The one Sender for this run. */
async function openSender(options: LoadOptions, observer: LoadObserver): Promise<Sender> {
  if (options.protocol === 'h2') return openH2Sender(options);
  if (options.keepAlive) return openKeepAliveSender(options);
  return openCloseModeSender(options, observer);
}

/**
 * The lanes of one run: each lane sends a request, and on its outcome records it and sends the next, until the
 * run's limits are reached. Callbacks, not an await per request: this is the generator's hottest path.
 */
class LoadLoop {
  private lanesRunning = 0;
  private issued = 0;
  private held: boolean;
  private portNoticeShown = false;
  private finished!: () => void;

  constructor(
    private readonly sender: Sender,
    private readonly collector: LoadCollector,
    private readonly options: LoadOptions,
    private readonly total: number,
    private readonly deadline: number,
    private readonly observer: LoadObserver,
  ) {
    this.held = options.holdOpenUntil !== undefined;
    void options.holdOpenUntil?.finally(() => (this.held = false));
  }

  run(): Promise<void> {
    const { concurrency } = this.options;
    const lanes = Math.max(1, Math.min(concurrency, Number.isFinite(this.total) ? this.total : concurrency));
    const done = new Promise<void>((resolve) => (this.finished = resolve));
    this.lanesRunning = lanes;
    for (let i = 0; i < lanes; i++) this.next();
    return done;
  }

  private shouldIssue(): boolean {
    return !this.options.signal?.aborted && (this.held || (this.issued < this.total && performance.now() < this.deadline));
  }

  private next(): void {
    if (!this.shouldIssue()) {
      if (--this.lanesRunning === 0) this.finished();
      return;
    }
    this.issued++;
    this.attempt(performance.now(), this.options.retries, 5);
  }

  private attempt(firstStartedAt: number, retriesLeft: number, portWaitMs: number): void {
    this.sender.send((outcome, completedAt) => this.settle(outcome, completedAt, firstStartedAt, retriesLeft, portWaitMs));
  }

  private settle(outcome: Outcome, completedAt: number | undefined, firstStartedAt: number, retriesLeft: number, portWaitMs: number): void {
    if (outcome.error === PORT_EXHAUSTED) {
      // Out of ephemeral ports (TIME_WAIT): wait for the kernel to free some and try again, not a failure.
      this.collector.portBackoffs++;
      if (!this.portNoticeShown) {
        this.portNoticeShown = true;
        this.observer.onNotice?.(PORT_NOTICE);
      }
      const wait = Math.min(1000, Math.max(10, portWaitMs * 2));
      setTimeout(() => this.attempt(firstStartedAt, retriesLeft, wait), wait);
      return;
    }
    if (outcome.error !== undefined && retriesLeft > 0 && RETRYABLE.has(outcome.error) && !this.options.signal?.aborted) {
      this.collector.retries++;
      this.attempt(firstStartedAt, retriesLeft - 1, portWaitMs);
      return;
    }
    this.collector.record(outcome, firstStartedAt, (completedAt ?? performance.now()) - firstStartedAt);
    this.next();
  }
}

/** Runs one load against one path and returns what was recorded. Never rejects for request failures. */
export async function runLoad(options: LoadOptions, observer: LoadObserver = {}): Promise<LoadRecording> {
  const collector = new LoadCollector();
  const sender = await openSender(options, observer);
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  const wallStartedAt = Date.now();
  collector.origin = startedAt;
  const deadline = options.durationMs !== undefined ? startedAt + options.durationMs : Infinity;
  const total = options.requests ?? (options.durationMs === undefined ? 1000 : Infinity);
  const progress = (): LoadProgress => ({
    path: options.path,
    completed: collector.completed,
    total: Number.isFinite(total) ? total : undefined,
    elapsedMs: performance.now() - startedAt,
    durationMs: options.durationMs,
    ok: collector.ok,
    failed: collector.failed,
    perPid: collector.countsByPid(),
  });
  const ticker = observer.onProgress ? setInterval(() => observer.onProgress!(progress()), PROGRESS_INTERVAL_MS) : undefined;
  try {
    await new LoadLoop(sender, collector, options, total, deadline, observer).run();
  } finally {
    clearInterval(ticker);
  }
  const endedAt = performance.now();
  const cpu = process.cpuUsage(cpuAtStart);
  observer.onProgress?.(progress());
  await sender.close();
  collector.goawayRetries = sender.goawayRetries ?? 0;
  return { options, collector, startedAt, endedAt, wallStartedAt, cpu, transport: sender.transport, protocol: sender.protocol };
}
