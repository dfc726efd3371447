/**
 * The cluster primary, as a library: `startCluster()` makes the calling process the primary, forks the
 * workers, respawns the ones that die, and offers graceful stop and rolling reload. `cluster-demo serve` is a
 * thin CLI layer over it; `probe`, `compare` and the tests boot exactly this.
 */
import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_N } from './handler.js';
import { describeListenError } from './listen-errors.js';
import { isWorkerMessage, WORKER_CONFIG_ENV, type PrimaryToWorker, type WorkerConfig } from './messages.js';

export type SchedulingPolicy = 'rr' | 'none';

export interface BackoffOptions {
  /** Delay before the first quick respawn, ms. */
  initialMs: number;
  factor: number;
  maxMs: number;
  /** A worker that stayed up this long resets its slot's backoff, ms. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, factor: 1.5, maxMs: 15_000, stableMs: 30_000 };

export interface ClusterOptions {
  /** 0 picks a free port. Default 3000. */
  port?: number;
  /** Default 127.0.0.1 (not exposed to the network); 0.0.0.0 exposes it. */
  host?: string;
  /** Default os.availableParallelism(). */
  workers?: number;
  /** Node's scheduling policy; fixed for the process at the first fork. Default rr. */
  sched?: SchedulingPolicy;
  maxN?: number;
  /** The instance's name in x-hostname (default os.hostname()): several instances on one machine, as containers. */
  name?: string;
  /** How long stop() and reload() let a worker finish in-flight requests before SIGKILL, ms. Default 10 s. */
  graceMs?: number;
  /** How long to wait for every worker to listen, ms. Default 30 s. */
  readyTimeoutMs?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Extra node flags for the workers (e.g. --cpu-prof). Default none. */
  workerExecArgv?: string[];
  /** Every state change, as data; `serve` renders these as log lines, `probe` keeps them for its report. */
  onEvent?: (event: ClusterEvent) => void;
}

export interface WorkerInfo {
  id: number;
  pid: number;
  slot: number;
  listening: boolean;
  startedAt: number;
}

export type ClusterEvent = { at: number } & (
  | { type: 'primary-started'; pid: number; cpus: number; workers: number; policy: SchedulingPolicy }
  | { type: 'worker-started'; pid: number; id: number; slot: number; replacing?: number }
  | { type: 'worker-listening'; pid: number; id: number; slot: number }
  | { type: 'ready'; url: string; listenUrl: string; pids: number[] }
  | { type: 'worker-died'; pid: number; id: number; slot: number; code: number | null; signal: string | null; uptimeMs: number }
  | { type: 'worker-start-failed'; pid: number; slot: number; message: string }
  | { type: 'worker-respawning'; slot: number; delayMs: number; afterPid: number }
  | { type: 'worker-exited'; pid: number; id: number; code: number | null; signal: string | null }
  /** Connections the primary had handed to a worker that died before taking them: closed (see trackHandoffs). */
  | { type: 'handoffs-closed'; pid: number; count: number }
  | { type: 'worker-killed'; pid: number; reason: 'grace' | 'chaos' | 'forced' }
  | { type: 'reload-started'; pids: number[] }
  | { type: 'reload-finished'; replaced: Array<{ oldPid: number; newPid: number }> }
  | { type: 'shutdown-started' }
  | { type: 'stopped'; exitCode: number }
);

type EventBody = ClusterEvent extends infer E ? (E extends ClusterEvent ? Omit<E, 'at'> : never) : never;

export interface StopResult {
  /** 0 when every worker finished within the grace period, 1 when some had to be killed. */
  exitCode: 0 | 1;
  killedPids: number[];
}

export interface ReloadResult {
  replaced: Array<{ oldPid: number; newPid: number }>;
}

export interface RunningCluster {
  /** Where a client on this machine reaches the cluster (0.0.0.0 is reached through 127.0.0.1). */
  url: string;
  /** The address as bound, for logs: http://HOST:PORT. */
  listenUrl: string;
  host: string;
  port: number;
  policy: SchedulingPolicy;
  primaryPid: number;
  /** The live workers, now. */
  readonly workers: WorkerInfo[];
  /** Graceful: stop respawning and accepting, let in-flight requests finish, kill what outlives the grace. */
  stop(): Promise<StopResult>;
  /** SIGKILL every worker now (the second Ctrl-C). */
  forceStop(): Promise<StopResult>;
  /** Rolling restart: one worker at a time, the new one listening before the old one is retired. */
  reload(): Promise<ReloadResult>;
  /** SIGKILL one listening worker (random unless pid is given) as a crash would; it is respawned. */
  killWorker(pid?: number): number | undefined;
}

/** A failure to start that the user can fix (port in use, bad host): one line, no stack. */
export class ClusterStartError extends Error {
  override name = 'ClusterStartError';
}

/** Thrown when a second cluster in this process asks for another policy: Node fixes it at the first fork. */
export class SchedulingPolicyError extends Error {
  override name = 'SchedulingPolicyError';
}

let frozenPolicy: SchedulingPolicy | undefined;

/** The compiled worker entry; when these sources run as TypeScript (under vitest), the built copy in dist/. */
export function workerEntryPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const built = fileURLToPath(new URL('../../dist/server/worker.js', import.meta.url));
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
    return built;
  }
  return fileURLToPath(new URL('./worker.js', import.meta.url));
}

/** Asks the OS for a free port on host. Used for port 0, because cluster workers that all listen on port 0
 * share one handle keyed by address and port: two clusters in one process would otherwise share a port. */
export function findFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export function formatHostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function connectableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

interface HandleLike {
  close(): void;
}

interface ClusterInternalMessage {
  cmd?: unknown;
  act?: unknown;
  seq?: unknown;
  ack?: unknown;
}

/**
 * With the rr policy the primary accepts each connection and sends it to a worker over IPC (node:cluster's
 * `newconn`), closing its own copy only when the worker acknowledges it. If the worker dies first (a crash,
 * `--chaos`), Node never closes that copy: the client waits forever on a socket nobody will read. So the
 * hand-offs a worker has not acknowledged yet are tracked here, and closed when it exits: the client gets a
 * reset, which it can retry, instead of a hang. This wraps the worker's `process.send` (which node:cluster
 * calls for every hand-off) and reads node:cluster's internal ack messages; with anything unexpected it
 * tracks nothing and changes nothing.
 */
function trackHandoffs(worker: Worker): { closeOrphans(): number } {
  const unacknowledged = new Map<number, HandleLike>();
  const child = worker.process as unknown as { send: (...args: unknown[]) => boolean; on(event: 'internalMessage', listener: (message: unknown) => void): void };
  const send = child.send;
  if (typeof send === 'function') {
    child.send = function (this: unknown, message: unknown, handle?: unknown, ...rest: unknown[]) {
      const m = message as ClusterInternalMessage | null;
      if (m && m.cmd === 'NODE_CLUSTER' && m.act === 'newconn' && typeof m.seq === 'number' && handle && typeof (handle as HandleLike).close === 'function') {
        unacknowledged.set(m.seq, handle as HandleLike);
      }
      return send.call(this, message, handle, ...rest);
    };
    child.on('internalMessage', (message) => {
      const m = message as ClusterInternalMessage | null;
      if (m && m.cmd === 'NODE_CLUSTER' && typeof m.ack === 'number') unacknowledged.delete(m.ack);
    });
  }
  return {
    closeOrphans() {
      const count = unacknowledged.size;
      for (const handle of unacknowledged.values()) {
        try {
          handle.close();
        } catch {
          // Already closed.
        }
      }
      unacknowledged.clear();
      return count;
    },
  };
}

interface WorkerState {
  worker: Worker;
  pid: number;
  slot: number;
  startedAt: number;
  listening: boolean;
  /** Asked to shut down (stop or reload): its exit is expected and is not respawned. */
  retiring: boolean;
  /** SIGKILLed by killWorker() (chaos): its death says nothing about its health, so no backoff. */
  killedOnPurpose: boolean;
  /** Forked by reload() and not yet listening: reload() handles its failure. */
  reloadCandidate: boolean;
  listened: Promise<void>;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

interface Slot {
  index: number;
  current?: WorkerState;
  quickDeaths: number;
  respawnTimer?: NodeJS.Timeout;
}

export async function startCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  if (!cluster.isPrimary) throw new Error('startCluster() must run in a primary process');
  const host = options.host ?? '127.0.0.1';
  const workerCount = options.workers ?? os.availableParallelism();
  const policy: SchedulingPolicy = options.sched ?? 'rr';
  const maxN = options.maxN ?? DEFAULT_MAX_N;
  const graceMs = options.graceMs ?? 10_000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };
  const emit = (event: EventBody) => options.onEvent?.({ at: Date.now(), ...event } as ClusterEvent);

  if (!Number.isInteger(workerCount) || workerCount < 1) throw new RangeError(`workers must be a positive integer (got ${workerCount})`);
  if (frozenPolicy !== undefined && frozenPolicy !== policy) {
    throw new SchedulingPolicyError(
      `this process already runs the cluster with --sched ${frozenPolicy}; Node fixes the policy at the first fork, so --sched ${policy} needs a new process`,
    );
  }
  // Must be set before the first fork: Node reads it once, at the first setupPrimary()/fork().
  cluster.schedulingPolicy = policy === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  frozenPolicy = policy;

  const requestedPort = options.port ?? 3000;
  let port = requestedPort;
  if (requestedPort === 0) {
    try {
      port = await findFreePort(host);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ClusterStartError(describeListenError(e.code ?? 'UNKNOWN', host, 0, e.message), { cause: err });
    }
  }
  const config: WorkerConfig = {
    host,
    port,
    maxN,
    primaryPid: process.pid,
    name: options.name,
    headersTimeoutMs: options.headersTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
  };
  cluster.setupPrimary({ exec: workerEntryPath(), args: [], execArgv: options.workerExecArgv ?? [], silent: false });

  const listenUrl = `http://${formatHostForUrl(host)}:${port}`;
  const url = `http://${formatHostForUrl(connectableHost(host))}:${port}`;
  const states = new Map<Worker, WorkerState>();
  const slots: Slot[] = Array.from({ length: workerCount }, (_, index) => ({ index, quickDeaths: 0 }));
  let ready = false;
  let stopping = false;
  let fatal: ClusterStartError | undefined;
  let reloadChain: Promise<unknown> = Promise.resolve();
  let stopPromise: Promise<StopResult> | undefined;
  let settleStart!: { resolve: () => void; reject: (err: Error) => void };
  const started = new Promise<void>((resolve, reject) => (settleStart = { resolve, reject }));

  emit({ type: 'primary-started', pid: process.pid, cpus: os.availableParallelism(), workers: workerCount, policy });

  function live(): WorkerState[] {
    return [...states.values()];
  }

  function failStart(message: string): void {
    if (ready || fatal) return;
    fatal = new ClusterStartError(message);
    stopping = true;
    for (const state of live()) state.worker.process.kill('SIGKILL');
    void Promise.all(live().map((s) => s.exited)).then(() => settleStart.reject(fatal!));
  }

  function checkReady(): void {
    if (ready || fatal) return;
    if (slots.every((slot) => slot.current?.listening)) {
      ready = true;
      emit({ type: 'ready', url, listenUrl, pids: slots.map((slot) => slot.current!.pid) });
      settleStart.resolve();
    }
  }

  function fork(slot: Slot, replacing?: WorkerState): WorkerState {
    const worker = cluster.fork({ [WORKER_CONFIG_ENV]: JSON.stringify(config) });
    const handoffs = trackHandoffs(worker);
    let onListening!: () => void;
    let onExit!: (value: { code: number | null; signal: string | null }) => void;
    const state: WorkerState = {
      worker,
      pid: worker.process.pid ?? -1,
      slot: slot.index,
      startedAt: Date.now(),
      listening: false,
      retiring: false,
      killedOnPurpose: false,
      reloadCandidate: replacing !== undefined,
      listened: new Promise<void>((resolve) => (onListening = resolve)),
      exited: new Promise((resolve) => (onExit = resolve)),
    };
    // Nobody may await `listened` (e.g. a respawn); it never rejects, so it cannot go unhandled.
    states.set(worker, state);
    slot.current = state;

    worker.on('online', () => emit({ type: 'worker-started', pid: state.pid, id: worker.id, slot: slot.index, replacing: replacing?.pid }));
    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.type === 'listening') {
        state.listening = true;
        state.reloadCandidate = false;
        emit({ type: 'worker-listening', pid: state.pid, id: worker.id, slot: slot.index });
        onListening();
        checkReady();
      } else if (message.type === 'drained') {
        // Node has processed this worker's server close by now: nothing more is handed to it (messages.ts).
        const ack: PrimaryToWorker = { type: 'drained-ack' };
        try {
          if (worker.isConnected()) worker.send(ack);
        } catch {
          // It is exiting anyway; its own timer ends it.
        }
      } else if (message.type === 'exiting') {
        // Nothing to do: its 'exit' follows.
      } else {
        const line = describeListenError(message.code, host, port, message.message);
        if (!ready) failStart(line);
        else emit({ type: 'worker-start-failed', pid: state.pid, slot: slot.index, message: line });
      }
    });
    worker.on('error', () => {
      // IPC errors (e.g. a send to a worker that just died) surface as 'exit' too; nothing to add here.
    });
    worker.on('exit', (code, signal) => {
      const orphans = handoffs.closeOrphans();
      if (orphans > 0) emit({ type: 'handoffs-closed', pid: state.pid, count: orphans });
      states.delete(worker);
      onExit({ code, signal });
      const uptimeMs = Date.now() - state.startedAt;
      if (state.retiring || stopping) {
        emit({ type: 'worker-exited', pid: state.pid, id: worker.id, code, signal });
        return;
      }
      emit({ type: 'worker-died', pid: state.pid, id: worker.id, slot: slot.index, code, signal, uptimeMs });
      if (!ready) {
        // Never a fork loop: a worker that cannot start before the cluster was ever ready is fatal.
        failStart(`worker ${state.pid} exited (${signal ?? `code ${code}`}) before listening on ${listenUrl}`);
        return;
      }
      if (state.reloadCandidate || slot.current !== state) return;
      scheduleRespawn(slot, state, uptimeMs);
    });
    return state;
  }

  function scheduleRespawn(slot: Slot, dead: WorkerState, uptimeMs: number): void {
    // A worker that keeps dying soon after it starts is restarted ever more slowly, not in a tight loop.
    // A deliberate kill (chaos) is not such a death: otherwise a long --chaos run would back every slot off
    // towards maxMs, until the cluster has no worker left to take connections.
    const quick = uptimeMs < backoff.stableMs && !dead.killedOnPurpose;
    if (uptimeMs >= backoff.stableMs) slot.quickDeaths = 0;
    const delayMs = quick ? Math.min(backoff.maxMs, Math.round(backoff.initialMs * backoff.factor ** slot.quickDeaths)) : 0;
    if (quick) slot.quickDeaths++;
    emit({ type: 'worker-respawning', slot: slot.index, delayMs, afterPid: dead.pid });
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = undefined;
      if (!stopping) fork(slot);
    }, delayMs);
  }

  function retire(state: WorkerState): Promise<boolean> {
    state.retiring = true;
    const message: PrimaryToWorker = { type: 'shutdown' };
    const tell = () => {
      try {
        if (state.worker.isConnected()) state.worker.send(message);
        else state.worker.process.kill('SIGTERM');
      } catch {
        state.worker.process.kill('SIGTERM');
      }
    };
    // A worker still starting up has no message handler yet: a shutdown sent now would be dropped and cost
    // the whole grace period (e.g. stop() right after a respawn). It is told as soon as it listens.
    if (state.listening) tell();
    else void state.listened.then(tell);
    let timer: NodeJS.Timeout | undefined;
    const graceExpired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        emit({ type: 'worker-killed', pid: state.pid, reason: 'grace' });
        state.worker.process.kill('SIGKILL');
        resolve(true);
      }, graceMs);
    });
    return Promise.race([state.exited.then(() => false), graceExpired]).finally(() => clearTimeout(timer));
  }

  const readyTimer = setTimeout(() => failStart(`workers did not all listen on ${listenUrl} within ${readyTimeoutMs / 1000} s`), readyTimeoutMs);
  for (const slot of slots) fork(slot);
  try {
    await started;
  } finally {
    clearTimeout(readyTimer);
  }

  async function stop(): Promise<StopResult> {
    if (stopPromise) return stopPromise;
    stopping = true;
    stopPromise = (async () => {
      emit({ type: 'shutdown-started' });
      for (const slot of slots) clearTimeout(slot.respawnTimer);
      const targets = live();
      const killed = await Promise.all(targets.map((state) => retire(state)));
      await Promise.all(targets.map((state) => state.exited));
      const killedPids = targets.filter((_, i) => killed[i]).map((s) => s.pid);
      const exitCode: 0 | 1 = killedPids.length > 0 ? 1 : 0;
      emit({ type: 'stopped', exitCode });
      return { exitCode, killedPids };
    })();
    return stopPromise;
  }

  async function forceStop(): Promise<StopResult> {
    stopping = true;
    for (const slot of slots) clearTimeout(slot.respawnTimer);
    const targets = live();
    for (const state of targets) {
      emit({ type: 'worker-killed', pid: state.pid, reason: 'forced' });
      state.worker.process.kill('SIGKILL');
    }
    await Promise.all(targets.map((state) => state.exited));
    emit({ type: 'stopped', exitCode: 1 });
    return { exitCode: 1, killedPids: targets.map((s) => s.pid) };
  }

  async function reloadNow(): Promise<ReloadResult> {
    const replaced: ReloadResult['replaced'] = [];
    emit({ type: 'reload-started', pids: slots.flatMap((slot) => (slot.current ? [slot.current.pid] : [])) });
    for (const slot of slots) {
      if (stopping) break;
      const old = slot.current;
      if (!old) continue; // a respawn is already pending for this slot
      const next = fork(slot, old);
      const outcome = await Promise.race([next.listened.then(() => 'listening' as const), next.exited.then(() => 'exited' as const)]);
      if (outcome === 'exited') {
        // Keep the old worker serving: there must never be zero live workers.
        slot.current = old;
        throw new Error(`reload stopped: the replacement for worker ${old.pid} exited before listening`);
      }
      // The new worker is listening; only now is the old one told to go.
      await retire(old);
      replaced.push({ oldPid: old.pid, newPid: next.pid });
    }
    emit({ type: 'reload-finished', replaced });
    return { replaced };
  }

  function reload(): Promise<ReloadResult> {
    const run = reloadChain.then(reloadNow, reloadNow);
    reloadChain = run.catch(() => undefined);
    return run;
  }

  function killWorker(pid?: number): number | undefined {
    const candidates = live().filter((s) => s.listening && !s.retiring && (pid === undefined || s.pid === pid));
    if (candidates.length === 0) return undefined;
    const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
    emit({ type: 'worker-killed', pid: victim.pid, reason: 'chaos' });
    victim.killedOnPurpose = true;
    // It stops counting as listening now, not when its exit is noticed (under load that can take a while):
    // callers that must keep one worker serving decide on what is really left.
    victim.listening = false;
    victim.worker.process.kill('SIGKILL');
    return victim.pid;
  }

  return {
    url,
    listenUrl,
    host,
    port,
    policy,
    primaryPid: process.pid,
    get workers(): WorkerInfo[] {
      return live().map((s) => ({ id: s.worker.id, pid: s.pid, slot: s.slot, listening: s.listening, startedAt: s.startedAt }));
    },
    stop,
    forceStop,
    reload,
    killWorker,
  };
}
