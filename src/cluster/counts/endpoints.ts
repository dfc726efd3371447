/**
 * The stats routes a worker answers, always with the primary's aggregate (never its own counters alone):
 *
 *   GET /_cluster/stats   the document as JSON
 *   GET /metrics          Prometheus text exposition
 *   GET /_cluster/events  server-sent events: `snapshot` (the document, every second) and `lifecycle` (each event)
 *   GET /dashboard        the live page (dashboard.html), told which worker served it and over which connection
 *
 * They expose the cluster's counters and lifecycle only: no environment, arguments or paths.
 */
import { readFileSync } from 'node:fs';
import { builtFile } from '../../core/built-file.js';
import type { DemoRequest, DemoResponse } from '../handler.js';
import type { PrimaryToWorker, WorkerToPrimary } from '../messages.js';
import type { ClusterStatsDoc } from './document.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus.js';
import type { WorkerStats } from './worker-stats.js';

export interface StatsRoutes {
  handles(path: string): boolean;
  serve(req: DemoRequest, res: DemoResponse, path: string, identityHeaders: Record<string, string>): void;
  /** Ends every event stream (a draining worker): the browsers' EventSource reconnects to another worker. */
  closeStreams(): void;
  /** Responses of these routes (event streams stay open for good): not "in flight" for the counters. */
  isStatsResponse(res: DemoResponse): boolean;
}

/** Set by the dashboard page: its experiments' responses carry their connection in Server-Timing (handler.ts). */
export const DASHBOARD_COOKIE = 'cluster-demo-dashboard=1';

let dashboardTemplate: string | undefined;

/**
 * The page, read once: the built one (its script bundled in by scripts/build-dashboard.mjs) beside this module in
 * dist/; under vitest these sources are TypeScript, and the page is still dist/'s.
 */
function dashboardHtml(): string {
  dashboardTemplate ??= readFileSync(builtFile(import.meta.url, './dashboard.html', '../../../dist/cluster/counts/dashboard.html'), 'utf8');
  return dashboardTemplate;
}

/** JSON for an inline <script type="application/json">: "<" escaped, so no value can close the element. */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function reply(res: DemoResponse, status: number, type: string, body: string, headers: Record<string, string>): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** The page, told which worker served it and over which connection (as this worker saw the client). */
function dashboard(req: DemoRequest, res: DemoResponse, headers: Record<string, string>, app: { origin: string } | null): void {
  const servedBy = {
    pid: Number(headers['x-worker-pid']),
    workerId: Number(headers['x-worker-id']),
    primaryPid: Number(headers['x-primary-pid']),
    hostname: headers['x-hostname'],
    remoteAddress: req.socket?.remoteAddress ?? null,
    remotePort: req.socket?.remotePort ?? null,
    httpVersion: req.httpVersion,
  };
  reply(res, 200, 'text/html; charset=utf-8', dashboardHtml().replace('{"servedBy":null}', inlineJson({ servedBy, app })), headers);
}

/** Where the routes get the cluster's document and its pushes: a worker asks the primary; the primary has them. */
export interface StatsSource {
  request(exact: boolean): Promise<ClusterStatsDoc>;
  /** Someone listens to /_cluster/events (true) or nobody any more (false): pushes start or stop. */
  watch(on: boolean): void;
  /** Set by the routes: each push goes to the open event streams. */
  onPush?: (message: Extract<PrimaryToWorker, { type: 'stats-push' }>) => void;
  /** A user's app (the primary's stats port): where the dashboard's experiments send their requests. */
  app?: () => { origin: string } | null;
}

class ClusterStatsRoutes implements StatsRoutes {
  /** Open /_cluster/events responses: the primary's pushes are written to each. */
  private readonly streams = new Set<DemoResponse>();
  private readonly answering = new WeakSet<DemoResponse>();

  constructor(private readonly stats: StatsSource) {
    stats.onPush = (message) => {
      const text = message.event === 'snapshot' ? sseMessage('snapshot', message.doc) : sseMessage('lifecycle', message.lifecycle);
      for (const res of this.streams) res.write(text);
    };
  }

  handles(path: string): boolean {
    return path === '/metrics' || path === '/dashboard' || path.startsWith('/_cluster/');
  }

  serve(req: DemoRequest, res: DemoResponse, path: string, headers: Record<string, string>): void {
    this.answering.add(res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain; charset=utf-8', `method ${req.method} not allowed: use GET`, { ...headers, allow: 'GET, HEAD' });
    // ?exact: every worker's counts, however busy it is (the probe reads this way before and after its run).
    const exact = path === '/_cluster/stats' && /[?&]exact(=|&|$)/.test(req.url ?? '');
    if (path === '/_cluster/stats') return void this.withDoc(res, headers, exact, (doc) => reply(res, 200, 'application/json; charset=utf-8', JSON.stringify(doc), headers));
    if (path === '/metrics') return void this.withDoc(res, headers, false, (doc) => reply(res, 200, PROMETHEUS_CONTENT_TYPE, renderPrometheus(doc), headers));
    if (path === '/_cluster/events') return this.openStream(req, res, headers);
    if (path === '/dashboard') return dashboard(req, res, headers, this.stats.app?.() ?? null);
    reply(res, 404, 'text/plain; charset=utf-8', `not found: ${path} (stats routes: /_cluster/stats, /_cluster/events, /metrics, /dashboard)`, headers);
  }

  closeStreams(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  isStatsResponse(res: DemoResponse): boolean {
    return this.answering.has(res);
  }

  private async withDoc(res: DemoResponse, headers: Record<string, string>, exact: boolean, render: (doc: ClusterStatsDoc) => void): Promise<void> {
    try {
      render(await this.stats.request(exact));
    } catch (err) {
      reply(res, 503, 'text/plain; charset=utf-8', `cluster stats unavailable: ${(err as Error).message}`, headers);
    }
  }

  private openStream(req: DemoRequest, res: DemoResponse, headers: Record<string, string>): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', ...headers });
    // EventSource reconnects after `retry` ms when the stream ends (a worker draining, a server restart).
    res.write('retry: 1000\n\n');
    if (this.streams.size === 0) this.stats.watch(true);
    this.streams.add(res);
    req.on('close', () => {
      if (this.streams.delete(res) && this.streams.size === 0) this.stats.watch(false);
    });
    void this.stats.request(false).then((doc) => res.write(sseMessage('snapshot', doc)), () => undefined);
  }
}

/** The routes in a worker: the document comes from the primary, over IPC. */
export function createStatsRoutes(stats: WorkerStats, send: (message: WorkerToPrimary) => void): StatsRoutes {
  const source: StatsSource = {
    request: (exact) => stats.request(exact),
    watch: (on) => send({ type: on ? 'stats-subscribe' : 'stats-unsubscribe' }),
  };
  stats.onPush = (message) => source.onPush?.(message);
  return new ClusterStatsRoutes(source);
}

/** The routes in the primary (`--stats-port`): the document is its own. */
export function createPrimaryStatsRoutes(source: StatsSource): StatsRoutes {
  return new ClusterStatsRoutes(source);
}
