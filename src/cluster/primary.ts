/**
 * The cluster primary, as a library: `startCluster()` makes the calling process the primary, forks the
 * workers, respawns the ones that die, and offers graceful stop and rolling reload. `cluster-demo serve` is a
 * thin CLI layer over it; `probe`, `compare` and the tests boot exactly this.
 *
 * It is a composition of parts that live alongside: settings.ts (options, policy, port), worker-state.ts (each
 * worker's phase and the exit decision), fork.ts (forking and wiring a worker), retire.ts (graceful exit with a
 * grace period), backoff.ts (respawn delays), reload.ts (the rolling restart), cluster-api.ts (the types).
 */
import cluster from 'node:cluster';
import os from 'node:os';
import { respawnDecision } from './backoff.js';
import { ClusterStartError, ClusterStartInterrupted, type ClusterEvent, type ClusterOptions, type EventBody, type ReloadResult, type RunningCluster, type StopResult, type WorkerInfo } from './cluster-api.js';
import { forkWorker, killWorkerProcess, type ForkSetup } from './fork.js';
import { rollingRestart } from './reload.js';
import { retireWorker } from './retire.js';
import { certificateFor, clusterSettings, freezeSchedulingPolicy, resolvePort, workerConfig, workerEntryPath, type ClusterSettings } from './settings.js';
import type { CertificateInfo } from './tls/certificate.js';
import { classifyExit, isListening, markListening, type ClusterPhase, type ExitStatus, type WorkerPhase, type WorkerPurpose, type WorkerState } from './worker-state.js';
import { readTcpMigrateReq } from './policy.js';
import { EXACT_FLUSH_WAIT_MS, PrimaryStats } from './counts/primary-stats.js';
import { captureRoundRobinListener, type RoundRobinListener } from '../node-internals/rr-listener.js';
import { assertPortFree, connectableHost, formatHostForUrl } from './ports.js';
import { APP_CONFIG_ENV, WORKER_CONFIG_ENV, type AppWorkerConfig } from './messages.js';
import { appExec, type AppExec } from '../app/app-setup.js';
import { AppOutput } from '../app/app-output.js';
import { describeAppListenError, listenErrorInOutput } from './listen-errors.js';
import { listeningSockets } from './accept-queue.js';
import { startStatsServer, type StatsServer } from './counts/stats-server.js';
import { createConnectionBalancer, type ConnectionBalancer } from './balancer.js';
import { isBalancedPolicy } from './policy.js';

export { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export * from './cluster-api.js';
export { findFreePort, formatHostForUrl } from './ports.js';
export type { SchedulingPolicy } from './policy.js';
export { workerEntryPath } from './settings.js';

const FORK_BATCH = 16;

interface Slot {
  index: number;
  current?: WorkerState;
  quickDeaths: number;
  respawnTimer?: NodeJS.Timeout;
}

class ClusterPrimary {
  readonly slots: Slot[];
  /** Every worker whose process has not exited yet. */
  readonly live = new Set<WorkerState>();
  phase: ClusterPhase = 'starting';
  private readonly started: Promise<void>;
  private settleStart!: { resolve: () => void; reject: (err: Error) => void };
  private readonly forkSetup: ForkSetup;
  private reloadChain: Promise<unknown> = Promise.resolve();
  /** The per-worker counts and lifecycle (stats on), gathered here from the workers' batched reports. */
  readonly stats?: PrimaryStats;
  private stopping?: Promise<StopResult>;
  /** --sched least-conn / ip-hash: the primary's own listener and its choice of worker (balancer.ts). */
  balancer?: ConnectionBalancer;
  /** Checked after each rr hand-off is acknowledged while a stop waits for the primary's queue to empty. */
  private queueCheck?: () => void;

  /** A user's app: every address it listens on (the first is `url`), and its deaths before listening at start. */
  readonly appUrls: string[] = [];
  private appStartDeaths = 0;
  /** The app asked for port 0 (any free port): under reuseport each worker would get one of its own. */
  private appAskedAnyPort = false;
  /** Where the app first asked to listen (its listen() call), for the line when it never does. */
  private appAsked?: { host?: string; port?: number };
  private lastAppExit = '';

  constructor(
    readonly settings: ClusterSettings,
    public port: number,
    public url: string,
    public listenUrl: string,
    readonly certificate: CertificateInfo | null,
    private readonly rrListener?: RoundRobinListener,
    private readonly app?: AppExec,
  ) {
    // A user's app answers its own routes: the stats routes are the primary's (statsPort) or nowhere.
    if (app) settings.stats = { ...settings.stats, endpoints: false };
    this.slots = Array.from({ length: settings.workers }, (_, index) => ({ index, quickDeaths: 0 }));
    this.started = new Promise<void>((resolve, reject) => (this.settleStart = { resolve, reject }));
    if (settings.stats.count) {
      const info = { primaryPid: process.pid, policy: settings.policy, hostname: settings.name ?? os.hostname(), startedAt: Date.now() };
      this.stats = new PrimaryStats(info, () => [...this.live]);
    }
    this.forkSetup = {
      // Read at each fork: the stats port (the dashboard's origin) opens after this constructor.
      env: (): Record<string, string> =>
        app
          ? { [APP_CONFIG_ENV]: JSON.stringify(this.appWorkerConfig()) }
          : { [WORKER_CONFIG_ENV]: JSON.stringify(workerConfig(settings, port)) },
      listenTarget: { host: settings.host, port },
      output: app ? new AppOutput(settings.app?.stdout) : undefined,
      describeListenFailure: app ? (code, host, port, detail) => describeAppListenError(app.name, code, host, port, detail) : undefined,
      policy: settings.policy,
      emit: (event) => this.emit(event),
      hooks: {
        listening: (state, address) => this.onListening(state, address),
        listenStarted: (_state, address) => (this.appAsked ??= address),
        listenFailed: (state, line) => (this.phase === 'ready' ? this.emit({ type: 'worker-start-failed', pid: state.pid, slot: state.slot, message: line }) : this.failStart(line)),
        exited: (state, before, status) => this.onExit(state, before, status),
        message: (state, message) => {
          if (message.type === 'connections-closed') return this.balancer?.closed(state.pid, message.count);
          void this.stats?.handle(state, message);
        },
        handoffAcknowledged: () => this.queueCheck?.(),
      },
    };
  }

  emit(body: EventBody): void {
    const event = { at: Date.now(), ...body } as ClusterEvent;
    this.stats?.onEvent(event);
    this.settings.onEvent?.(event);
  }

  async start(): Promise<void> {
    const { settings } = this;
    const tcpMigrateReq = settings.policy === 'reuseport' && process.platform === 'linux' ? readTcpMigrateReq() : null;
    this.emit({ type: 'primary-started', pid: process.pid, cpus: settings.cpus, workers: settings.workers, policy: settings.policy, tcpMigrateReq });
    const readyTimer = setTimeout(() => void this.notReadyLine().then((line) => this.failStart(line)), settings.readyTimeoutMs);
    const interrupt = () => this.failStart('interrupted before every worker listened', ClusterStartInterrupted);
    settings.signal?.addEventListener('abort', interrupt, { once: true });
    try {
      await this.forkAll();
      await this.started;
    } finally {
      clearTimeout(readyTimer);
      settings.signal?.removeEventListener('abort', interrupt);
    }
  }

  /**
   * The initial workers, FORK_BATCH at a time with a turn of the event loop between batches: a fork blocks the
   * primary for a few ms, and a few hundred of them in one go would keep a Ctrl-C (or a failed start) waiting.
   */
  private async forkAll(): Promise<void> {
    for (const [i, slot] of this.slots.entries()) {
      if (this.phase !== 'starting') return;
      this.fork(slot, 'initial');
      if (i % FORK_BATCH === FORK_BATCH - 1) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  fork(slot: Slot, purpose: WorkerPurpose, replacing?: WorkerState): WorkerState {
    const state = forkWorker(slot.index, purpose, this.forkSetup, replacing?.pid);
    this.live.add(state);
    this.stats?.forked(state);
    slot.current = state;
    return state;
  }

  private appWorkerConfig(): AppWorkerConfig {
    const { settings } = this;
    const dashboardOrigin = this.statsServer ? new URL(this.statsServer.url).origin : undefined;
    return { primaryPid: process.pid, name: settings.name, count: settings.stats.count, reusePort: settings.policy === 'reuseport', dashboardOrigin };
  }

  /** The primary's own stats routes (`statsPort`), once started. */
  statsServer?: StatsServer;

  statsUrl(): string | null {
    return this.statsServer?.url ?? (this.settings.stats.endpoints ? this.url : null);
  }

  /** Why start-up timed out, in one line. */
  private async notReadyLine(): Promise<string> {
    const within = `within ${this.settings.readyTimeoutMs / 1000} s`;
    if (!this.app) return `workers did not all listen on ${this.listenUrl} ${within}`;
    const busy = await this.appPortBusy();
    if (busy) return `${this.app.name} did not listen ${within}: it asked for ${busy}, which is already in use (its listen error went to its own error handler) — stop what holds it, or give the app another port`;
    if (this.appStartDeaths > 0) return `${this.app.name} exited before it listened (${this.appStartDeaths} ${this.appStartDeaths === 1 ? 'time' : 'times'}, the last ${this.lastAppExit}), and its workers were not all listening ${within} (--listen-timeout); its own output is above`;
    const listening = this.slots.filter((slot) => slot.current && isListening(slot.current)).length;
    return `${this.app.name} started but did not listen ${within} (${listening} of ${this.slots.length} workers listened; --listen-timeout sets the wait)`;
  }

  private onListening(state: WorkerState, address: { host: string; port: number; askedPort?: number }): void {
    if (address.askedPort === 0) this.appAskedAnyPort = true;
    if (this.app) this.appListening(state, address);
    markListening(state);
    this.balancer?.flush();
    if (this.phase === 'starting' && this.slots.every((slot) => slot.current && isListening(slot.current))) {
      const refused = this.checkReusePort();
      if (refused) return this.failStart(refused);
      this.phase = 'ready';
      const dashboardUrl = this.statsUrl() ? `${this.statsUrl()}/dashboard` : null;
      const pids = this.slots.map((slot) => slot.current!.pid);
      this.emit({ type: 'ready', url: this.url, listenUrl: this.listenUrl, pids, dashboardUrl, protocol: this.settings.protocol, certificate: this.certificate });
      this.settleStart.resolve();
    }
  }

  /**
   * A user's app under --sched reuseport: its listens were given reusePort from outside (app/agent.ts), which
   * only works where Node reads the option after publishing it. Every worker must then hold a socket of its own:
   * counted in /proc (one shared socket means it did not take). The line says so; null when it took (or /proc
   * cannot tell).
   */
  private checkReusePort(): string | null {
    if (!this.app || this.settings.policy !== 'reuseport') return null;
    const sockets = listeningSockets(this.port);
    if (sockets === null || sockets >= this.slots.length) return null;
    if (this.appAskedAnyPort) return `--sched reuseport needs ${this.app.name} to listen on a fixed port: it asks for any free port (0), and with SO_REUSEPORT every worker would get a different one; give it a port (its own setting, e.g. PORT=3000) or use --sched rr or none`;
    return `--sched reuseport: ${this.app.name}'s workers share ${sockets} listening socket${sockets === 1 ? '' : 's'} on port ${this.port} instead of one each (Node ${process.version} did not take the reusePort added to its listen): use --sched rr or none`;
  }

  /** The address the app asked for, when it is a fixed port that is taken now ("port 3000 on every interface"); else null. */
  private async appPortBusy(): Promise<string | null> {
    const port = this.appAsked?.port;
    if (!port) return null;
    const host = this.appAsked?.host ?? '::';
    try {
      await assertPortFree(host, port);
      return null;
    } catch {
      return `port ${port} ${host === '::' || host === '0.0.0.0' ? 'on every interface' : `on ${host}`}`;
    }
  }

  /** A user's app listens on `address`: the first one becomes the cluster's URL, each new one is announced. */
  private appListening(state: WorkerState, { host, port }: { host: string; port: number }): void {
    const reachable = host === '::' || host === '0.0.0.0' ? '127.0.0.1' : host;
    const url = `http://${formatHostForUrl(reachable)}:${port}`;
    if (this.appUrls.includes(url)) return;
    this.appUrls.push(url);
    if (this.appUrls.length === 1) {
      this.port = port;
      this.url = url;
      this.listenUrl = `http://${formatHostForUrl(host)}:${port}`;
    }
    this.emit({ type: 'app-listening', pid: state.pid, url });
  }

  /** Start-up failed (a worker could not listen or died first, or a Ctrl-C): kill the rest, then reject start(). */
  private failStart(message: string, kind: typeof ClusterStartError = ClusterStartError): void {
    if (this.phase !== 'starting') return;
    this.phase = 'failed';
    const all = [...this.live];
    for (const state of all) killWorkerProcess(state, 'start-failed', (e) => this.emit(e));
    // A worker killed by the terminal's SIGINT on its way up is the same Ctrl-C as the primary's, whose own
    // handler may run a moment after that worker's exit was seen: decided once every worker is gone.
    void Promise.all(all.map((s) => s.exited)).then(() => this.settleStart.reject(new (this.settings.signal?.aborted ? ClusterStartInterrupted : kind)(message)));
  }

  private onExit(state: WorkerState, before: WorkerPhase, { code, signal }: ExitStatus): void {
    this.live.delete(state);
    // Its connections ended with it.
    this.balancer?.closed(state.pid, Number.POSITIVE_INFINITY);
    this.queueCheck?.();
    this.stats?.exited(state, { code, signal });
    const slot = this.slots[state.slot]!;
    const verdict = classifyExit(before, state.purpose, this.phase, slot.current === state);
    if (verdict.kind === 'expected') {
      this.emit({ type: 'worker-exited', pid: state.pid, id: state.worker.id, code, signal });
      return;
    }
    const uptimeMs = Date.now() - state.startedAt;
    this.emit({ type: 'worker-died', pid: state.pid, id: state.worker.id, slot: slot.index, code, signal, uptimeMs });
    if (verdict.kind === 'fatal' && this.app) this.appDiedAtStart(state, slot, uptimeMs, code, signal);
    else if (verdict.kind === 'fatal') this.failStart(`worker ${state.pid} exited (${signal ?? `code ${code}`}) before listening on ${this.listenUrl}`);
    else if (verdict.kind === 'respawn') this.scheduleRespawn(slot, state.pid, uptimeMs, verdict.onPurpose);
    // replacement-failed: reload() keeps the old worker; superseded: the slot has moved on.
  }

  /**
   * A user's app died before it listened, at start: its output is shown once; an exit with code 0 is final (it
   * ran to its end: nothing to retry), a crash is retried with the backoff until --listen-timeout says no.
   */
  private appDiedAtStart(state: WorkerState, slot: Slot, uptimeMs: number, code: number | null, signal: string | null): void {
    // Its listen failed, but its last message did not get out before it died: Node's own words in its output say so.
    const failed = listenErrorInOutput(state.stderr?.heldText() ?? '');
    if (failed) {
      state.stderr?.drop();
      return this.failStart(describeAppListenError(this.app!.name, failed.code, failed.host, failed.port));
    }
    state.stderr?.showOnce();
    this.appStartDeaths++;
    this.lastAppExit = signal ? `by ${signal}` : `with code ${code}`;
    if (code === 0) return this.failStart(`${this.app!.name} exited with code 0 before it listened: an app run with --app must start a server and keep running`);
    this.scheduleRespawn(slot, state.pid, uptimeMs, false);
  }

  private scheduleRespawn(slot: Slot, deadPid: number, uptimeMs: number, onPurpose: boolean): void {
    // A worker that keeps dying soon after it starts is restarted ever more slowly, not in a tight loop.
    const { delayMs, quickDeaths } = respawnDecision(uptimeMs, onPurpose, slot.quickDeaths, this.settings.backoff);
    slot.quickDeaths = quickDeaths;
    this.emit({ type: 'worker-respawning', slot: slot.index, delayMs, afterPid: deadPid });
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = undefined;
      if (this.phase === 'ready' || (this.phase === 'starting' && this.app)) this.fork(slot, 'respawn');
    }, delayMs);
  }

  private beginStopping(): WorkerState[] {
    this.phase = 'stopping';
    for (const slot of this.slots) clearTimeout(slot.respawnTimer);
    return [...this.live];
  }

  stop(): Promise<StopResult> {
    this.stopping ??= (async () => {
      const targets = this.beginStopping();
      this.emit({ type: 'shutdown-started' });
      // One grace period for the whole stop: handing out the queue, then the workers' own drain.
      const deadline = Date.now() + this.settings.graceMs;
      // rr: stop accepting first, and tell the workers only once every connection the primary accepted is in a
      // worker's hands; a worker that stops listening earlier makes node:cluster close the queue on the clients.
      if (this.rrListener?.stopAccepting()) await this.queueHandedOut(deadline);
      if (this.balancer) {
        this.balancer.stopAccepting();
        await this.balancerHandedOut(deadline);
      }
      const retire = (state: WorkerState) => retireWorker(state, Math.max(0, deadline - Date.now()), (e) => this.emit(e));
      const killed = await Promise.all(targets.map(retire));
      await Promise.all(targets.map((state) => state.exited));
      const killedPids = targets.filter((_, i) => killed[i]).map((s) => s.pid);
      const exitCode: 0 | 1 = killedPids.length > 0 ? 1 : 0;
      this.emit({ type: 'stopped', exitCode });
      await this.statsServer?.close();
      this.stats?.close();
      return { exitCode, killedPids };
    })();
    return this.stopping;
  }

  /**
   * Resolves once rr's queue in the primary is empty (some listening worker is free: see Handoffs.pending),
   * no worker listens any more, or at the deadline. The listening socket is closed by then, so the queue only
   * shrinks.
   */
  private queueHandedOut(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const listening = () => [...this.live].filter(isListening);
      const done = () => {
        this.queueCheck = undefined;
        clearTimeout(timer);
        resolve();
      };
      // After the acknowledgement node:cluster hands the worker its next connection, if any: look then.
      const check = () => setImmediate(() => {
        const workers = listening();
        if (workers.length === 0 || workers.some((s) => (s.handoffs?.pending() ?? 0) === 0)) done();
      });
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      this.queueCheck = check;
      check();
    });
  }

  /** least-conn / ip-hash: the connections accepted and not yet handed to a worker, handed out (or the deadline). */
  private async balancerHandedOut(deadline: number): Promise<void> {
    while (this.balancer && this.balancer.waiting() > 0 && Date.now() < deadline && [...this.live].some(isListening)) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  async forceStop(): Promise<StopResult> {
    this.balancer?.stopAccepting();
    const targets = this.beginStopping();
    for (const state of targets) killWorkerProcess(state, 'forced', (e) => this.emit(e));
    await Promise.all(targets.map((state) => state.exited));
    this.emit({ type: 'stopped', exitCode: 1 });
    await this.statsServer?.close();
    this.stats?.close();
    return { exitCode: 1, killedPids: targets.map((s) => s.pid) };
  }

  reload(): Promise<ReloadResult> {
    const reloadNow = () =>
      rollingRestart({
        slots: this.slots,
        isStopping: () => this.phase !== 'ready',
        fork: (slot, old) => this.fork(slot as Slot, 'reload', old),
        retire: (state) => retireWorker(state, this.settings.graceMs, (e) => this.emit(e)),
        emit: (event) => this.emit(event),
      });
    const run = this.reloadChain.then(reloadNow, reloadNow);
    this.reloadChain = run.catch(() => undefined);
    return run;
  }

  /** SIGKILL one listening worker, as a crash would (chaos); it is respawned without backoff. */
  killWorker(pid?: number): number | undefined {
    const candidates = [...this.live].filter((s) => isListening(s) && (pid === undefined || s.pid === pid));
    if (candidates.length === 0) return undefined;
    const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
    // From here it no longer counts as listening, before its exit is noticed (under load that can take a
    // while): callers that must keep one worker serving decide on what is really left.
    killWorkerProcess(victim, 'chaos', (e) => this.emit(e));
    return victim.pid;
  }

  workers(): WorkerInfo[] {
    return [...this.live].map((s) => ({ id: s.worker.id, pid: s.pid, slot: s.slot, listening: isListening(s), startedAt: s.startedAt }));
  }
}

export async function startCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  if (!cluster.isPrimary) throw new Error('startCluster() must run in a primary process');
  const settings = clusterSettings(options);
  freezeSchedulingPolicy(settings.policy);
  const app = settings.app ? appExec(settings.app, settings.workerExecArgv) : undefined;
  // A user's app picks its own address: it is known once its first worker listens.
  const port = app ? 0 : await resolvePort(settings);
  const certificate = app ? null : await certificateFor(settings);
  if (certificate) settings.tls = certificate.tls;
  if (app) cluster.setupPrimary({ exec: app.exec, args: app.args, cwd: app.cwd, execArgv: app.execArgv, stdio: ['inherit', 'pipe', 'pipe', 'ipc'] });
  else cluster.setupPrimary({ exec: workerEntryPath(), args: [], execArgv: settings.workerExecArgv, silent: false });
  const scheme = settings.protocol === 'http' ? 'http' : 'https';
  const listenUrl = `${scheme}://${formatHostForUrl(settings.host)}:${port}`;
  const url = `${scheme}://${formatHostForUrl(connectableHost(settings.host))}:${port}`;
  // rr: find the primary's listening socket as node:cluster opens it, so a stop can stop accepting.
  const rrListener = settings.policy === 'rr' && !app ? captureRoundRobinListener(port) : undefined;
  const primary = new ClusterPrimary(settings, port, app ? '' : url, app ? '' : listenUrl, certificate?.info ?? null, rrListener, app);
  try {
    if (isBalancedPolicy(settings.policy)) {
      const eligible = () => [...primary.live].filter(isListening).map((s) => ({ worker: s.worker, slot: s.slot }));
      primary.balancer = createConnectionBalancer(settings.policy, eligible, settings.workers);
      await primary.balancer.listen(port, settings.host);
    }
    if (settings.statsPort !== undefined && primary.stats) {
      primary.statsServer = await startStatsServer(primary.stats, settings.statsHost, settings.statsPort, settings.name, () => (app && primary.url ? primary.url : null));
    }
    await primary.start();
  } catch (err) {
    await primary.statsServer?.close();
    primary.balancer?.stopAccepting();
    throw err;
  } finally {
    rrListener?.release();
  }
  return {
    url: primary.url,
    listenUrl: primary.listenUrl,
    host: app ? new URL(primary.url).hostname.replace(/^\[|\]$/g, '') : settings.host,
    port: primary.port,
    appUrls: primary.appUrls,
    policy: settings.policy,
    protocol: settings.protocol,
    certificate: certificate ? { ...certificate.info, cert: certificate.tls.cert } : null,
    primaryPid: process.pid,
    get workers() {
      return primary.workers();
    },
    stop: () => primary.stop(),
    forceStop: () => primary.forceStop(),
    reload: () => primary.reload(),
    killWorker: (pid) => primary.killWorker(pid),
    stats: (read) => primary.stats?.fresh(read?.exact ? EXACT_FLUSH_WAIT_MS : undefined) ?? Promise.resolve(null),
    statsSnapshot: () => primary.stats?.snapshot() ?? null,
    statsRoutes: primary.statsUrl() !== null,
    statsUrl: primary.statsUrl(),
  };
}
