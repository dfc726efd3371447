/**
 * `cluster-demo probe`: boots the cluster in-process (or targets --url), runs the load per route, and returns
 * the result as data. Rendering lives in report/; this module never prints.
 */
import { OptionsError } from '../core/errors.js';
import { runLoad, type LoadObserver, type LoadRecording } from '../load/engine.js';
import { checkReachable, checkSpeaksH2 } from '../load/reachable.js';
import { summarizeRoute, withSilentWorkers, type KnownWorker, type RouteReport } from '../load/summary.js';
import { pathPrefix } from '../load/url.js';
import type { AppOptions } from '../app/app-setup.js';
import { startCluster, type ClusterEvent, type RunningCluster, type SchedulingPolicy } from '../cluster/primary.js';
import type { ClusterStatsDoc } from '../cluster/counts/document.js';
import { addCpu, generatorCost, type GeneratorCost } from '../statistics/generator.js';
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
  /** Keep-alive: the pool's cap; HTTP/2: the sessions the streams share (default 1). */
  connections?: number;
  /** Send over HTTP/2 (https targets; in-process: the cluster serves --h2). */
  h2?: boolean;
  /** In-process only: the cluster serves https (HTTP/1.1 over TLS). */
  tls?: boolean;
  /** https: trust exactly this certificate (PEM), e.g. one this tool made (fleet's nginx). */
  ca?: string;
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
  /** Boot the user's app as the cluster instead of the demo server (`--app`). */
  app?: AppOptions & { listenTimeoutMs?: number };
  /** Request these paths (GET, one route each) instead of --route's; with app, default ['/']. */
  paths?: string[];
}

export const DEFAULT_REQUESTS = { pid: 2000, api: 400 } as const;

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
  /** When the load began, ms since the epoch (chaos and reload times are counted from here). */
  startedAt: number;
  inProcess: boolean;
  policy: SchedulingPolicy | null;
  /** In-process reuseport on Linux: net.ipv4.tcp_migrate_req when the cluster started; null otherwise. */
  tcpMigrateReq: 0 | 1 | null;
  /** What the requests were sent over: HTTP/1.1, or HTTP/2 (negotiated; each route says it too). */
  protocol: 'http/1.1' | 'h2';
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
  /** steps: each replacement, atMs after startedAt (the old worker gone, the new one listening). */
  reload: { replaced: Array<{ oldPid: number; newPid: number }>; durationMs: number; steps: Array<{ oldPid: number; newPid: number; atMs: number }> } | null;
  /** What the server itself counted per worker during the run; null when the target has no stats. */
  serverCounts: ServerCounts | null;
  notices: string[];
}

/** The load's own rules, for every command that runs the probe (probe, fleet): one line each, exit 2. */
export function validateLoadShape(load: Pick<ProbeOptions, 'connections' | 'keepAlive' | 'requests' | 'durationMs' | 'h2'>): void {
  if (load.h2 && load.keepAlive) throw new OptionsError('{h2} always reuses its connections (streams over --connections sessions): leave out {keepAlive}');
  if (load.connections !== undefined && !load.keepAlive && !load.h2) {
    throw new OptionsError('{connections} caps the keep-alive pool (or the HTTP/2 sessions); add {keepAlive} or {h2} (without them every request opens a new connection)');
  }
  if (load.requests !== undefined && load.durationMs !== undefined) throw new OptionsError('use either {requests} or {durationMs}, not both');
}

export function validateProbeOptions(options: ProbeOptions): void {
  if (options.app && options.url) throw new OptionsError('{app} boots your app in-process; {url} probes a server that already runs: give one');
  if (options.app && (options.tls || options.h2)) throw new OptionsError(`{${options.tls ? 'tls' : 'h2'}} makes our demo server speak it; your app ({app}) speaks what it speaks (HTTP/1.1 here)`);
  if (options.url && options.chaosMs !== undefined) throw new OptionsError('{chaosMs} needs the in-process cluster; it cannot be used with {url}');
  if (options.url && options.reload) throw new OptionsError('{reload} needs the in-process cluster; it cannot be used with {url}');
  if (options.url && options.sched !== 'rr') throw new OptionsError('{sched} applies to the in-process cluster; it cannot be used with {url}');
  if (options.url && options.tls) throw new OptionsError('{tls} makes the in-process cluster serve https; with {url} the URL says it (https://…)');
  if (options.h2 && options.url && options.url.protocol !== 'https:') throw new OptionsError('{h2} needs an https:// target: HTTP/2 is spoken over TLS here, as browsers do');
  validateLoadShape(options);
  if (options.insecure && options.url?.protocol !== 'https:') throw new OptionsError('{insecure} is for https:// targets ({url} https://…)');
}

export interface ProbeObserver extends LoadObserver {
  /** The target is known (cluster booted or URL reachable); the load is about to start. */
  onStart?(info: { target: string; inProcess: boolean; workers: number | null }): void;
  onRouteStart?(route: string, path: string): void;
}

function routesFor(options: ProbeOptions): Array<{ route: string; path: string; requests?: number }> {
  // A server behind a reverse-proxy location (--url http://lb/app) has its routes under that prefix.
  const prefix = options.url ? pathPrefix(options.url) : '';
  const paths = options.paths ?? (options.app ? ['/'] : undefined);
  if (paths) return paths.map((path) => ({ route: path, path: `${prefix}${path}`, requests: options.requests ?? (options.durationMs ? undefined : DEFAULT_REQUESTS.pid) }));
  const pid = { route: '/pid', path: `${prefix}/pid`, requests: options.requests ?? (options.durationMs ? undefined : DEFAULT_REQUESTS.pid) };
  const api = { route: '/api/:n', path: `${prefix}/api/${options.n}`, requests: options.requests ?? (options.durationMs ? undefined : DEFAULT_REQUESTS.api) };
  return options.route === 'pid' ? [pid] : options.route === 'api' ? [api] : [pid, api];
}

/** What the probe runs against: the in-process cluster it booted, or the --url server (checked reachable). */
interface Target {
  url: URL;
  cluster?: RunningCluster;
  /** https: the certificate to trust (the in-process cluster's own self-signed one). */
  ca?: string;
  events: ClusterEvent[];
}

async function openTarget(options: ProbeOptions): Promise<Target> {
  const events: ClusterEvent[] = [];
  if (options.url) {
    const reach = { insecure: options.insecure, ca: options.ca };
    if (options.h2) await checkSpeaksH2(options.url, Math.min(options.timeoutMs, 5000), reach);
    else await checkReachable(options.url, Math.min(options.timeoutMs, 5000), reach);
    return { url: options.url, ca: options.ca, events };
  }
  const protocol = options.h2 ? 'h2' : options.tls ? 'https' : 'http';
  const { app } = options;
  const cluster = await startCluster({
    port: 0,
    host: '127.0.0.1',
    workers: options.workers,
    sched: options.sched,
    protocol,
    onEvent: (e) => events.push(e),
    signal: options.signal,
    // The app's own output goes to stderr: stdout is the report.
    app: app && { entry: app.entry, args: app.args, cwd: app.cwd, stdout: 'stderr' },
    readyTimeoutMs: app?.listenTimeoutMs,
  });
  return { url: new URL(cluster.url), cluster, ca: cluster.certificate?.cert, events };
}

/** --chaos: a random listening worker SIGKILLed every interval, never the last one listening. */
function startChaos(cluster: RunningCluster, options: ProbeOptions, observe: ProbeObserver): NodeJS.Timeout | undefined {
  if (options.chaosMs === undefined) return undefined;
  if (options.workers < 2) observe.onNotice?.('chaos never kills the last listening worker, so with 1 worker nothing is killed: use 2 or more workers');
  // The point is that the others keep serving while one is replaced (with none left, the primary closes the
  // listening socket and clients are refused).
  return setInterval(() => {
    if (cluster.workers.filter((w) => w.listening).length > 1) cluster.killWorker();
  }, options.chaosMs);
}

interface RoutesRun {
  routes: RouteReport[];
  recordings: LoadRecording[];
  reload: Omit<NonNullable<ProbeResult['reload']>, 'steps'> | null;
  cpu: { user: number; system: number };
  wallMs: number;
}

/** Each route's load in turn (the first one under a rolling restart with --reload). */
async function runRoutes(options: ProbeOptions, target: Target, expected: { workers: number | null; hosts: number | null }, observe: ProbeObserver): Promise<RoutesRun> {
  const run: RoutesRun = { routes: [], recordings: [], reload: null, cpu: { user: 0, system: 0 }, wallMs: 0 };
  let reloadPending = options.reload;
  for (const { route, path, requests } of routesFor(options)) {
    if (options.signal?.aborted) break;
    observe.onRouteStart?.(route, path);
    let reloading: Promise<unknown> | undefined;
    if (target.cluster && reloadPending) {
      reloadPending = false;
      reloading = reloadUnderLoad(target.cluster).then((info) => (run.reload = info));
    }
    const { concurrency, durationMs, keepAlive, connections, timeoutMs, retries, insecure, signal } = options;
    const recording = await runLoad(
      { target: target.url, path, concurrency, requests, durationMs, keepAlive, connections, timeoutMs, retries, insecure, signal, ca: target.ca, protocol: options.h2 ? 'h2' : 'http/1.1', holdOpenUntil: reloading?.catch(() => undefined) },
      observe,
    );
    // The same window as the wall time (not the setup before it, e.g. loading undici).
    run.cpu = addCpu(run.cpu, recording.cpu);
    run.wallMs += recording.endedAt - recording.startedAt;
    // A Ctrl-C reaches the replacement workers too (the terminal signals the whole group): a reload it broke is
    // part of the interruption, and the report still covers what was sent.
    await reloading?.catch((err: unknown) => {
      if (!options.signal?.aborted) throw err;
    });
    run.recordings.push(recording);
    run.routes.push(summarizeRoute(route, recording, expected.workers, expected.hosts));
  }
  return run;
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
  const target = await openTarget(options);
  try {
    return await probeTarget(options, target, observe, notices);
  } finally {
    // On every path, a failed reload or a bug included: nothing this probe started outlives it.
    await target.cluster?.stop();
  }
}

async function probeTarget(options: ProbeOptions, target: Target, observe: ProbeObserver, notices: string[]): Promise<ProbeResult> {
  const { cluster } = target;
  const expected = { workers: options.expectWorkers ?? (cluster ? options.workers : null), hosts: options.expectHosts ?? null };
  // Exact reads: every worker's last counts, not what reached the primary by its last tick.
  const statsSources = options.statsSources ?? (cluster ? [() => cluster.stats({ exact: true })] : [statsOverHttp(target.url, { insecure: options.insecure })]);
  const statsBefore = await Promise.all(statsSources.map((read) => read()));
  const startedWall = Date.now();
  const initialPids = cluster ? cluster.workers.map((w) => w.pid).sort((a, b) => a - b) : [];
  observe.onStart?.({ target: target.url.origin, inProcess: cluster !== undefined, workers: expected.workers });
  const chaosTimer = cluster ? startChaos(cluster, options, observe) : undefined;
  let run: RoutesRun;
  try {
    run = await runRoutes(options, target, expected, observe);
  } finally {
    clearInterval(chaosTimer);
  }
  // A worker killed near the end of a chaos run: let its replacement come up (bounded), so the report can
  // say how long each replacement took rather than "none yet".
  if (cluster && options.chaosMs !== undefined && !options.signal?.aborted) await waitForAllListening(cluster, options.workers, 5_000);
  const finalPids = cluster ? cluster.workers.map((w) => w.pid).sort((a, b) => a - b) : [];
  const statsAfter = statsBefore.every((doc) => doc === null) ? statsBefore : await Promise.all(statsSources.map((read) => read()));
  const serverCounts = serverCountsOf(statsBefore, statsAfter, run.routes);
  // Every worker this probe knows of is a row, the ones that answered nothing included.
  const known = knownWorkers([...initialPids, ...finalPids], [...statsBefore, ...statsAfter]);
  const routes = run.routes.map((route) => withSilentWorkers(route, known, expected.workers));
  return {
    target: options.url ? options.url.href.replace(/\/$/, '') : target.url.origin,
    startedAt: startedWall,
    inProcess: cluster !== undefined,
    policy: cluster ? cluster.policy : null,
    tcpMigrateReq: target.events.find((e) => e.type === 'primary-started')?.tcpMigrateReq ?? null,
    protocol: options.h2 ? 'h2' : 'http/1.1',
    workersExpected: expected.workers,
    concurrency: options.concurrency,
    keepAlive: options.keepAlive,
    connections: options.h2 ? (options.connections ?? 1) : options.keepAlive ? (options.connections ?? options.concurrency) : null,
    retries: options.retries,
    allWorkersServed: expected.workers === null ? null : routes.every((r) => r.allWorkersServed === true),
    hostsExpected: expected.hosts,
    allHostsServed: expected.hosts === null ? null : routes.every((r) => r.hostsSeen >= expected.hosts!),
    allOk: routes.every((r) => r.failed === 0),
    interrupted: options.signal?.aborted ?? false,
    routes,
    initialPids,
    finalPids,
    generator: generatorCost(run.cpu, routes.reduce((sum, r) => sum + r.requests, 0), run.wallMs),
    chaos: options.chaosMs !== undefined ? summarizeDeaths(target.events, run.recordings, startedWall, options.chaosMs) : null,
    reload: run.reload && { ...run.reload, steps: reloadSteps(target.events, startedWall) },
    serverCounts,
    notices,
  };
}

/** Each step of the rolling restart, from the cluster's events, in ms after the probe began. */
function reloadSteps(events: ClusterEvent[], startedWall: number): Array<{ oldPid: number; newPid: number; atMs: number }> {
  return events.flatMap((e) => (e.type === 'reload-replaced' ? [{ oldPid: e.oldPid, newPid: e.newPid, atMs: e.at - startedWall }] : []));
}

/** The workers it started (in-process) and those the server's stats list as live, before or after the run. */
function knownWorkers(startedPids: readonly number[], docs: ReadonlyArray<ClusterStatsDoc | null>): KnownWorker[] {
  const fromStats = docs.flatMap((doc) => (doc ? doc.workers.filter((w) => w.state !== 'exited').map((w) => ({ pid: w.pid, host: doc.hostname, primaryPid: doc.primaryPid })) : []));
  return [...startedPids.map((pid) => ({ pid })), ...fromStats];
}

/** The server's counts over the run, from the readings before and after; null without stats. */
function serverCountsOf(before: ReadonlyArray<ClusterStatsDoc | null>, after: ReadonlyArray<ClusterStatsDoc | null>, routes: RouteReport[]): ServerCounts | null {
  if (before.every((doc) => doc === null)) return null;
  const { covered, workers, counted } = serverCountsBetween(before, after, routes.map((r) => r.route));
  if (covered.length === 0) return null;
  return { covered, workers, mismatches: countMismatches(routes.filter((r) => counted.includes(r.route)), workers, covered) };
}

/**
 * 0: every expected worker served and nothing failed; 1 otherwise, and also when a route reached no worker it
 * could name (nothing sent, or no answer said who served it: the report's ✗); 130 when interrupted by Ctrl-C.
 */
export function probeExitCode(result: ProbeResult): 0 | 1 | 130 {
  if (result.interrupted) return 130;
  const everyRouteReachedAWorker = result.routes.every((route) => route.workersSeen > 0);
  return result.allOk && everyRouteReachedAWorker && result.allWorkersServed !== false && result.allHostsServed !== false ? 0 : 1;
}
