/**
 * The cluster primary, as a library: `startCluster()` makes the calling process the primary, forks the
 * workers, respawns the ones that die, and offers graceful stop and rolling reload. `cluster-demo serve` is a
 * thin CLI layer over it; `probe`, `compare` and the tests boot exactly this. Its parts live alongside:
 * cluster-api.ts (types), policy.ts (rr / none / reuseport), backoff.ts (respawn delays), handoffs.ts (rr's
 * connection hand-offs), reload.ts (the rolling restart), ports.ts.
 */
import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BACKOFF, respawnDecision, type BackoffOptions } from './backoff.js';
import {
  ClusterStartError,
  SchedulingPolicyError,
  type ClusterEvent,
  type ClusterOptions,
  type EventBody,
  type ReloadResult,
  type RunningCluster,
  type StopResult,
  type WorkerInfo,
} from './cluster-api.js';
import { trackHandoffs } from '../node-internals/handoffs.js';
import { forgetWhenClosed } from '../node-internals/held-disconnect.js';
import { DEFAULT_MAX_N } from './handler.js';
import { describeListenError } from './listen-errors.js';
import { isWorkerMessage, WORKER_CONFIG_ENV, type PrimaryToWorker, type WorkerConfig } from './messages.js';
import { readTcpMigrateReq, reusePortUnsupported, type SchedulingPolicy } from './policy.js';
import { assertPortFree, connectableHost, findFreePort, formatHostForUrl } from './ports.js';
import { rollingRestart } from './reload.js';

export { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export * from './cluster-api.js';
export { findFreePort, formatHostForUrl } from './ports.js';
export type { SchedulingPolicy } from './policy.js';

/** Node's own policy behind ours: reuseport workers bind their own sockets, so the primary's is "none". */
let frozenNodePolicy: number | undefined;

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
  const unsupported = policy === 'reuseport' ? reusePortUnsupported() : null;
  if (unsupported) throw new SchedulingPolicyError(unsupported);
  const nodePolicy = policy === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  if (frozenNodePolicy !== undefined && frozenNodePolicy !== nodePolicy) {
    throw new SchedulingPolicyError(
      `this process already runs a cluster with Node's ${frozenNodePolicy === cluster.SCHED_RR ? 'rr' : 'none'} policy; Node fixes it at the first fork, so --sched ${policy} needs a new process`,
    );
  }
  // Must be set before the first fork: Node reads it once, at the first setupPrimary()/fork().
  cluster.schedulingPolicy = nodePolicy;
  frozenNodePolicy = nodePolicy;

  const requestedPort = options.port ?? 3000;
  let port = requestedPort;
  try {
    if (requestedPort === 0) port = await findFreePort(host);
    // SO_REUSEPORT sockets of the same user join one group silently: a port another reuseport program holds
    // would be shared with it, not refused. A plain bind first makes "port in use" the one clear line it is
    // with the other policies.
    else if (policy === 'reuseport') await assertPortFree(host, port);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ClusterStartError(describeListenError(e.code ?? 'UNKNOWN', host, requestedPort, e.message), { cause: err });
  }
  const config: WorkerConfig = {
    host,
    port,
    maxN,
    primaryPid: process.pid,
    name: options.name,
    reusePort: policy === 'reuseport',
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

  const tcpMigrateReq = policy === 'reuseport' && process.platform === 'linux' ? readTcpMigrateReq() : null;
  emit({ type: 'primary-started', pid: process.pid, cpus: os.availableParallelism(), workers: workerCount, policy, tcpMigrateReq });

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
    // Only rr hands connections over; with none and reuseport there is nothing to track.
    const handoffs = policy === 'rr' ? trackHandoffs(worker) : { closeOrphans: () => 0 };
    forgetWhenClosed(worker, () => cluster.workers);
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
    const { delayMs, quickDeaths } = respawnDecision(uptimeMs, dead.killedOnPurpose, slot.quickDeaths, backoff);
    slot.quickDeaths = quickDeaths;
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

  function reloadNow(): Promise<ReloadResult> {
    return rollingRestart({ slots, isStopping: () => stopping, fork: (slot, old) => fork(slot as Slot, old), retire, emit });
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
