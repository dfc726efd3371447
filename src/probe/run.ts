/**
 * `cluster-demo probe`: boots the cluster in-process (or targets --url), runs the load per route, and returns
 * the result as data. Rendering lives in report/; this module never prints.
 */
import { UsageError } from '../core/errors.js';
import { runLoad, type LoadObserver, type LoadRecording } from '../load/engine.js';
import { checkReachable } from '../load/reachable.js';
import { summarizeRoute, type RouteReport } from '../load/summary.js';
import { pathPrefix } from '../load/url.js';
import { startCluster, type ClusterEvent, type RunningCluster, type SchedulingPolicy } from '../server/primary.js';
import type { ClusterStatsDoc } from '../server/stats/document.js';
import { addCpu, generatorCost, type GeneratorCost } from '../stats/generator.js';
import { summarizeDeaths, waitForAllListening } from './chaos.js';
import { reloadUnderLoad } from './reload.js';
import { countMismatches, serverCountsBetween, statsOverHttp, type ServerCounts, type StatsSource } from './server-counts.js';

export type RouteChoice = 'pid' | 'api' | 'both';

export interface ProbeOptions {
  url?: URL;
  workers: number;
  sched: SchedulingPolicy;
  concurrency: number;
  /** Per route; undefined → the route's default (or --duration). */
  requests?: number;
  durationMs?: number;
  route: RouteChoice;
  n: number;
  timeoutMs: number;
  keepAlive: boolean;
  connections?: number;
  expectWorkers?: number;
  /** Fail unless at least this many hosts (x-hostname) answered, e.g. behind a load balancer. */
  expectHosts?: number;
  retries: number;
  /** https: accept a certificate that does not verify. */
  insecure?: boolean;
  /** In-process only: SIGKILL a random worker every chaosMs. */
  chaosMs?: number;
  /** In-process only: a rolling restart in the middle of the run. */
  reload: boolean;
  /** Aborting (Ctrl-C) stops sending; the report covers what was sent. */
  signal?: AbortSignal;
  /**
   * Where to read the server's own counts, before and after the run (default: the in-process cluster, or
   * --url's /_cluster/stats). fleet passes every instance.
   */
  statsSources?: StatsSource[];
}

export const DEFAULT_REQUESTS = { pid: 2000, api: 400 } as const;
/** About 10 ms of loop on a current x86 core. */
export const DEFAULT_N = 12_000_000;

export interface WorkerDeath {
  pid: number;
  /** ms since the probe started. */
  atMs: number;
  cause: 'chaos' | 'crash';
  replacementPid: number | null;
  /** From the death to the replacement listening; null if none listened before the end. */
  replacementMs: number | null;
  /** Failed requests attributed to this death (in flight when it died). */
  failedRequests: number;
}

export interface ProbeResult {
  target: string;
  inProcess: boolean;
  policy: SchedulingPolicy | null;
  /** In-process reuseport on Linux: net.ipv4.tcp_migrate_req when the cluster started; null otherwise. */
  tcpMigrateReq: 0 | 1 | null;
  workersExpected: number | null;
  concurrency: number;
  keepAlive: boolean;
  connections: number | null;
  retries: number;
  allWorkersServed: boolean | null;
  /** --expect-hosts, else null. */
  hostsExpected: number | null;
  /** Every route was served by at least hostsExpected hosts; null without --expect-hosts. */
  allHostsServed: boolean | null;
  /** Every request of every route succeeded. */
  allOk: boolean;
  /** Stopped early by Ctrl-C. */
  interrupted: boolean;
  routes: RouteReport[];
  /** PIDs of the workers when the load began (in-process only). */
  initialPids: number[];
  /** PIDs of the live workers when the load ended (in-process only). */
  finalPids: number[];
  /**
   * What sending cost this process (process.cpuUsage() over the loads). In-process, this process is also the
   * cluster's primary, which with rr accepts and hands over every connection: its share is counted here too.
   */
  generator: GeneratorCost;
  chaos: { intervalMs: number; deaths: WorkerDeath[]; unattributedFailures: number } | null;
  reload: { replaced: Array<{ oldPid: number; newPid: number }>; durationMs: number } | null;
  /** What the server itself counted per worker during the run; null when the target has no stats. */
  serverCounts: ServerCounts | null;
  notices: string[];
}

/** The load's own rules, for every command that runs the probe (probe, fleet): one line each, exit 2. */
export function validateLoadShape(load: Pick<ProbeOptions, 'connections' | 'keepAlive' | 'requests' | 'durationMs'>, command: string): void {
  if (load.connections !== undefined && !load.keepAlive) {
    throw new UsageError('--connections caps the keep-alive pool; add --keep-alive (without it every request opens a new connection)', command);
  }
  if (load.requests !== undefined && load.durationMs !== undefined) throw new UsageError('use either --requests or --duration, not both', command);
}

export function validateProbeOptions(options: ProbeOptions): void {
  if (options.url && options.chaosMs !== undefined) throw new UsageError('--chaos needs the in-process cluster; it cannot be used with --url', 'probe');
  if (options.url && options.reload) throw new UsageError('--reload needs the in-process cluster; it cannot be used with --url', 'probe');
  if (options.url && options.sched !== 'rr') throw new UsageError('--sched applies to the in-process cluster; it cannot be used with --url', 'probe');
  validateLoadShape(options, 'probe');
  if (options.insecure && options.url?.protocol !== 'https:') throw new UsageError('--insecure is for https:// targets (--url https://…)', 'probe');
}

export interface ProbeObserver extends LoadObserver {
  /** The target is known (cluster booted or URL reachable); the load is about to start. */
  onStart?(info: { target: string; inProcess: boolean; workers: number | null }): void;
  onRouteStart?(route: string, path: string): void;
}

function routesFor(options: ProbeOptions): Array<{ route: string; path: string; requests?: number }> {
  // A server behind a reverse-proxy location (--url http://lb/app) has its routes under that prefix.
  const prefix = options.url ? pathPrefix(options.url) : '';
  const pid = { route: '/pid', path: `${prefix}/pid`, requests: options.requests ?? (options.durationMs ? undefined : DEFAULT_REQUESTS.pid) };
  const api = { route: '/api/:n', path: `${prefix}/api/${options.n}`, requests: options.requests ?? (options.durationMs ? undefined : DEFAULT_REQUESTS.api) };
  return options.route === 'pid' ? [pid] : options.route === 'api' ? [api] : [pid, api];
}

export async function runProbe(options: ProbeOptions, observer: ProbeObserver = {}): Promise<ProbeResult> {
  validateProbeOptions(options);
  const notices: string[] = [];
  const observe: ProbeObserver = {
    ...observer,
    onNotice: (line) => {
      if (!notices.includes(line)) notices.push(line);
      observer.onNotice?.(line);
    },
  };
  const events: ClusterEvent[] = [];
  let cluster: RunningCluster | undefined;
  let target: URL;
  if (options.url) {
    target = options.url;
    await checkReachable(target, Math.min(options.timeoutMs, 5000), options.insecure);
  } else {
    cluster = await startCluster({ port: 0, host: '127.0.0.1', workers: options.workers, sched: options.sched, onEvent: (e) => events.push(e) });
    target = new URL(cluster.url);
  }
  const workersExpected = options.expectWorkers ?? (cluster ? options.workers : null);
  const hostsExpected = options.expectHosts ?? null;
  const statsSources = options.statsSources ?? (cluster ? [() => cluster!.stats()] : [statsOverHttp(target, { insecure: options.insecure })]);
  const statsBefore = await Promise.all(statsSources.map((read) => read()));
  const probeStartedWall = Date.now();
  const initialPids = cluster ? cluster.workers.map((w) => w.pid).sort((a, b) => a - b) : [];
  const routes: RouteReport[] = [];
  const recordings: LoadRecording[] = [];
  let reloadInfo: ProbeResult['reload'] = null;
  let cpu = { user: 0, system: 0 };
  let loadWallMs = 0;
  let chaosTimer: NodeJS.Timeout | undefined;

  try {
    observe.onStart?.({ target: target.origin, inProcess: cluster !== undefined, workers: workersExpected });
    if (cluster && options.chaosMs !== undefined) {
      if (options.workers < 2) observe.onNotice?.('--chaos never kills the last listening worker, so with --workers 1 nothing is killed: use 2 or more');
      const running = cluster;
      // Never the last listening worker: the point is that the others keep serving while one is replaced
      // (with none left, the primary closes the listening socket and clients are refused).
      chaosTimer = setInterval(() => {
        if (running.workers.filter((w) => w.listening).length > 1) running.killWorker();
      }, options.chaosMs);
    }
    let reloadPending = options.reload;
    for (const { route, path, requests } of routesFor(options)) {
      if (options.signal?.aborted) break;
      observe.onRouteStart?.(route, path);
      let reloadPromise: Promise<unknown> | undefined;
      if (cluster && reloadPending) {
        reloadPending = false;
        reloadPromise = reloadUnderLoad(cluster).then((info) => (reloadInfo = info));
      }
      const recording = await runLoad(
        {
          target,
          path,
          concurrency: options.concurrency,
          requests,
          durationMs: options.durationMs,
          keepAlive: options.keepAlive,
          connections: options.connections,
          timeoutMs: options.timeoutMs,
          retries: options.retries,
          insecure: options.insecure,
          holdOpenUntil: reloadPromise?.catch(() => undefined),
          signal: options.signal,
        },
        observe,
      );
      // The same window as the wall time below (not the setup before it, e.g. loading undici).
      cpu = addCpu(cpu, recording.cpu);
      loadWallMs += recording.endedAt - recording.startedAt;
      await reloadPromise;
      recordings.push(recording);
      routes.push(summarizeRoute(route, recording, workersExpected, hostsExpected));
    }
  } finally {
    clearInterval(chaosTimer);
  }
  // A worker killed near the end of a chaos run: let its replacement come up (bounded), so the report can
  // say how long each replacement took rather than "none yet".
  if (cluster && options.chaosMs !== undefined && !options.signal?.aborted) await waitForAllListening(cluster, options.workers, 5_000);
  const finalPids = cluster ? cluster.workers.map((w) => w.pid).sort((a, b) => a - b) : [];
  const serverCounts = await readServerCounts(statsSources, statsBefore, routes);
  if (cluster) await cluster.stop();

  const chaos = options.chaosMs !== undefined ? summarizeDeaths(events, recordings, probeStartedWall, options.chaosMs) : null;
  const allWorkersServed = workersExpected === null ? null : routes.every((r) => r.allWorkersServed === true);
  return {
    target: options.url ? options.url.href.replace(/\/$/, '') : target.origin,
    inProcess: cluster !== undefined,
    policy: cluster ? cluster.policy : null,
    tcpMigrateReq: events.find((e) => e.type === 'primary-started')?.tcpMigrateReq ?? null,
    workersExpected,
    concurrency: options.concurrency,
    keepAlive: options.keepAlive,
    connections: options.keepAlive ? (options.connections ?? options.concurrency) : null,
    retries: options.retries,
    allWorkersServed,
    hostsExpected,
    allHostsServed: hostsExpected === null ? null : routes.every((r) => r.hostsSeen >= hostsExpected),
    allOk: routes.every((r) => r.failed === 0),
    interrupted: options.signal?.aborted ?? false,
    routes,
    initialPids,
    finalPids,
    generator: generatorCost(cpu, routes.reduce((sum, r) => sum + r.requests, 0), loadWallMs),
    chaos,
    reload: reloadInfo,
    serverCounts,
    notices,
  };
}

/** The server's counts over the run, from the readings before and (now) after; null without stats. */
async function readServerCounts(sources: StatsSource[], before: ReadonlyArray<ClusterStatsDoc | null>, routes: RouteReport[]): Promise<ServerCounts | null> {
  if (before.every((doc) => doc === null)) return null;
  const after = await Promise.all(sources.map((read) => read()));
  const { covered, workers } = serverCountsBetween(before, after, routes.map((r) => r.route));
  if (covered.length === 0) return null;
  return { covered, workers, mismatches: countMismatches(routes, workers, covered) };
}

/** 0: every expected worker served and nothing failed; 1 otherwise; 130 when interrupted by Ctrl-C. */
export function probeExitCode(result: ProbeResult): 0 | 1 | 130 {
  if (result.interrupted) return 130;
  return result.allOk && result.allWorkersServed !== false && result.allHostsServed !== false ? 0 : 1;
}
