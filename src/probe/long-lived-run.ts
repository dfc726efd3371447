/**
 * `cluster-demo probe --ws` and `--sse`: hold many long-lived connections on the cluster (booted in-process, or
 * --url) and show, per worker, the connections open now (the client's view and the server's), the connections it
 * accepted and the messages it answered, and prove that every message of one connection met one worker. With
 * --chaos or --reload the clients reconnect (with backoff) and the result holds the open connections per worker
 * before and after. Returns data; report/long-lived-report.ts renders it.
 */
import { startCluster, type ClusterEvent, type RunningCluster, type SchedulingPolicy } from '../cluster/primary.js';
import type { ClusterStatsDoc, LongLivedCounts } from '../cluster/counts/document.js';
import { HeldClients, type LongLivedKind, type Session } from '../load/long-lived-clients.js';
import { checkReachable } from '../load/reachable.js';
import { maxMinRatio } from '../statistics/fairness.js';
import { waitForAllListening } from './chaos.js';
import { RELOAD_AFTER_MS } from './reload.js';
import { statsOverHttp, type StatsSource } from './server-counts.js';

export interface LongLivedProbeOptions {
  kind: LongLivedKind;
  url?: URL;
  workers: number;
  sched: SchedulingPolicy;
  /** Long-lived connections to hold (default 200). */
  connections: number;
  /** At most this many opening at once. */
  concurrency: number;
  /** WebSocket: messages per connection. */
  messages: number;
  /** How long they are held once open, ms. */
  holdMs: number;
  timeoutMs: number;
  insecure?: boolean;
  tls?: boolean;
  expectWorkers?: number;
  /** In-process: SIGKILL a random worker every chaosMs while holding (never the last one listening). */
  chaosMs?: number;
  /** In-process: a rolling restart while holding. */
  reload: boolean;
  /** Spread the clients over this many source addresses, 127.0.0.2 and up (loopback targets); undefined: the OS's choice. */
  sourceAddresses?: number;
  signal?: AbortSignal;
}

/** One worker: the connections the clients hold on it, and what the server counted for it. */
export interface LongLivedWorker {
  pid: number;
  workerId: number | null;
  /** Open on it when every connection had opened (the clients' view). */
  openAtStart: number;
  /** Open on it at the end, after any reconnects (the clients' view). */
  openAtEnd: number;
  /** The server's own count at the end: open now, accepted and messages answered during the run; null: not read. */
  server: { open: number; accepted: number; messages: number } | null;
  /** Gone by the end (killed by --chaos, or replaced by --reload). */
  gone: boolean;
}

export interface LongLivedProbeResult {
  kind: LongLivedKind;
  target: string;
  inProcess: boolean;
  /** The in-process cluster's scheduling policy; null for --url. */
  policy: SchedulingPolicy | null;
  /** The clients came from this many source addresses (127.0.0.2 and up); null: the OS's choice (one address). */
  sourceAddresses: number | null;
  workersExpected: number | null;
  connections: number;
  messagesPerConnection: number;
  holdMs: number;
  /** Connections that opened and were greeted (first attempt), and the errors of those that did not. */
  opened: number;
  openErrors: Array<{ message: string; count: number }>;
  /** Over every connection that carried messages: how many had all of them answered by the worker that greeted it. */
  pinned: { connections: number; oneWorker: number; messages: number; foreignMessages: number };
  workers: LongLivedWorker[];
  /** Busiest ÷ least busy worker by open connections (live workers), at the start and at the end; null: a live worker holds none. */
  balance: { atStart: number | null; atEnd: number | null };
  /** --chaos / --reload: connections the server ended, reconnects made, and slots left without a connection. */
  disruption: { chaosMs: number | null; reload: boolean; killed: number[]; replaced: Array<{ oldPid: number; newPid: number }>; serverClosed: number; reconnects: number; closeCodes: Record<string, number>; unconnected: number } | null;
  /** The server's view was read (our server, in-process or a --url with /_cluster/stats). */
  serverCounted: boolean;
  wallMs: number;
}

const kindOf = (doc: ClusterStatsDoc, pid: number, kind: LongLivedKind): LongLivedCounts['ws'] | LongLivedCounts['sse'] | undefined => doc.workers.find((w) => w.pid === pid)?.longLived?.[kind];

async function openTarget(options: LongLivedProbeOptions, events: ClusterEvent[]): Promise<{ url: URL; cluster?: RunningCluster; stats: StatsSource }> {
  if (options.url) {
    await checkReachable(options.url, Math.min(options.timeoutMs, 5_000), { insecure: options.insecure });
    return { url: options.url, stats: statsOverHttp(options.url, { insecure: options.insecure }) };
  }
  const cluster = await startCluster({ port: 0, host: '127.0.0.1', workers: options.workers, sched: options.sched, protocol: options.tls ? 'https' : 'http', onEvent: (e) => events.push(e), signal: options.signal });
  return { url: new URL(cluster.url), cluster, stats: () => cluster.stats({ exact: true }) };
}

export async function runLongLivedProbe(options: LongLivedProbeOptions): Promise<LongLivedProbeResult> {
  const events: ClusterEvent[] = [];
  const target = await openTarget(options, events);
  const clients = new HeldClients({
    kind: options.kind,
    url: target.url.toString(),
    connections: options.connections,
    concurrency: options.concurrency,
    messages: options.kind === 'ws' ? options.messages : 0,
    reconnect: options.chaosMs !== undefined || options.reload,
    insecure: options.insecure || target.cluster !== undefined,
    timeoutMs: options.timeoutMs,
    localAddress: options.sourceAddresses ? (i) => sourceAddress(i, options.sourceAddresses!) : undefined,
  });
  const started = Date.now();
  try {
    const before = await target.stats();
    await clients.open();
    const atStart = perPid(clients.openSessions());
    let reloadResult: Array<{ oldPid: number; newPid: number }> = [];
    const chaos = target.cluster && options.chaosMs !== undefined ? startChaos(target.cluster, options.chaosMs) : undefined;
    try {
      const reloading = target.cluster && options.reload ? delay(RELOAD_AFTER_MS, options.signal).then(() => target.cluster!.reload()) : undefined;
      await delay(options.holdMs, options.signal);
      if (reloading) reloadResult = (await reloading).replaced;
    } finally {
      if (chaos) clearInterval(chaos);
    }
    // The clients the server let go come back: wait for every slot to hold a connection again (or give up).
    if (target.cluster && (options.chaosMs !== undefined || options.reload)) {
      await waitForAllListening(target.cluster, options.workers, 10_000);
      await waitUntil(() => clients.openSessions().length === options.connections, 10_000, options.signal);
    }
    const atEnd = perPid(clients.openSessions());
    const after = await target.stats();
    return summarize(options, target, clients, { before, after, atStart, atEnd, events, reloadResult, wallMs: Date.now() - started });
  } finally {
    await clients.close();
    await target.cluster?.stop();
  }
}

interface Views {
  before: ClusterStatsDoc | null;
  after: ClusterStatsDoc | null;
  atStart: Map<number, { open: number; workerId: number | null }>;
  atEnd: Map<number, { open: number; workerId: number | null }>;
  events: ClusterEvent[];
  reloadResult: Array<{ oldPid: number; newPid: number }>;
  wallMs: number;
}

function summarize(options: LongLivedProbeOptions, target: { url: URL; cluster?: RunningCluster }, clients: HeldClients, views: Views): LongLivedProbeResult {
  const { before, after, atStart, atEnd } = views;
  const live = new Set(after ? after.workers.filter((w) => w.state !== 'exited').map((w) => w.pid) : [...atEnd.keys()]);
  const killed = views.events.filter((e) => e.type === 'worker-killed' && e.reason === 'chaos').map((e) => (e as { pid: number }).pid);
  // Every worker that took part: held connections, was live at the end, or was killed or replaced on the way.
  const pids = new Set<number>([...atStart.keys(), ...atEnd.keys(), ...live, ...killed, ...views.reloadResult.flatMap((r) => [r.oldPid, r.newPid])]);
  const serverCounted = after !== null && after.workers.some((w) => w.longLived !== undefined);
  const workers: LongLivedWorker[] = [...pids].sort((a, b) => a - b).map((pid) => {
    const end = after ? kindOf(after, pid, options.kind) : undefined;
    const start = before ? kindOf(before, pid, options.kind) : undefined;
    const messages = (counts: typeof end): number => (counts !== undefined && 'messages' in counts ? (counts as LongLivedCounts['ws']).messages : 0);
    return {
      pid,
      workerId: atStart.get(pid)?.workerId ?? atEnd.get(pid)?.workerId ?? after?.workers.find((w) => w.pid === pid)?.id ?? null,
      openAtStart: atStart.get(pid)?.open ?? 0,
      openAtEnd: atEnd.get(pid)?.open ?? 0,
      server: serverCounted && end ? { open: end.open, accepted: end.accepted - (start?.accepted ?? 0), messages: messages(end) - messages(start) } : null,
      gone: !live.has(pid),
    };
  });
  const firsts = clients.slots.map((s) => s.sessions[0]!);
  const sessions = clients.slots.flatMap((s) => s.sessions);
  const carried = sessions.filter((s) => s.messages > 0);
  // Over the workers live at each moment: a worker that holds nothing counts as 0 (an infinite ratio).
  const liveAtStart = before ? before.workers.filter((w) => w.state !== 'exited').map((w) => w.pid) : [...atStart.keys()];
  const disrupted = options.chaosMs !== undefined || options.reload;
  return {
    kind: options.kind,
    target: target.url.toString(),
    inProcess: target.cluster !== undefined,
    policy: target.cluster ? options.sched : null,
    sourceAddresses: options.sourceAddresses ?? null,
    workersExpected: options.expectWorkers ?? (target.cluster ? options.workers : null),
    connections: options.connections,
    messagesPerConnection: options.kind === 'ws' ? options.messages : 0,
    holdMs: options.holdMs,
    opened: firsts.filter((s) => s.pid !== undefined && s.error === undefined).length,
    openErrors: tallyErrors(firsts),
    pinned: { connections: carried.length, oneWorker: carried.filter((s) => s.foreign === 0).length, messages: carried.reduce((n, s) => n + s.messages, 0), foreignMessages: carried.reduce((n, s) => n + s.foreign, 0) },
    workers,
    balance: { atStart: finiteOrNull(maxMinRatio(liveAtStart.map((pid) => atStart.get(pid)?.open ?? 0))), atEnd: finiteOrNull(maxMinRatio([...live].map((pid) => atEnd.get(pid)?.open ?? 0))) },
    disruption: disrupted
      ? {
          chaosMs: options.chaosMs ?? null,
          reload: options.reload,
          killed,
          replaced: views.reloadResult,
          serverClosed: sessions.filter((s) => s.closedAtMs !== undefined && s.pid !== undefined).length,
          reconnects: clients.slots.reduce((n, s) => n + s.sessions.length - 1, 0),
          closeCodes: tallyCodes(sessions),
          unconnected: options.connections - clients.openSessions().length,
        }
      : null,
    serverCounted,
    wallMs: views.wallMs,
  };
}

/** Client i's source address: 127.0.0.2, .3, … in turn over `count` addresses. */
export function sourceAddress(index: number, count: number): string {
  return `127.0.0.${2 + (index % count)}`;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

function perPid(sessions: Session[]): Map<number, { open: number; workerId: number | null }> {
  const map = new Map<number, { open: number; workerId: number | null }>();
  for (const s of sessions) {
    const entry = map.get(s.pid!) ?? { open: 0, workerId: s.workerId ?? null };
    entry.open++;
    map.set(s.pid!, entry);
  }
  return map;
}

function tallyErrors(sessions: Session[]): Array<{ message: string; count: number }> {
  const counts = new Map<string, number>();
  for (const s of sessions) if (s.error !== undefined || s.pid === undefined) counts.set(s.error ?? 'never greeted', (counts.get(s.error ?? 'never greeted') ?? 0) + 1);
  return [...counts].map(([message, count]) => ({ message, count })).sort((a, b) => b.count - a.count);
}

function tallyCodes(sessions: Session[]): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const s of sessions) if (s.closeCode !== undefined && s.pid !== undefined) codes[String(s.closeCode)] = (codes[String(s.closeCode)] ?? 0) + 1;
  return codes;
}

/** A random listening worker SIGKILLed every interval, never the last one listening. */
function startChaos(cluster: RunningCluster, intervalMs: number): NodeJS.Timeout {
  return setInterval(() => {
    if (cluster.workers.filter((w) => w.listening).length > 1) cluster.killWorker();
  }, intervalMs);
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

async function waitUntil(check: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline && !signal?.aborted) await new Promise((resolve) => setTimeout(resolve, 25));
}

/** 0: every connection opened, every message met its worker, every expected worker held connections; 1 otherwise. */
export function longLivedExitCode(result: LongLivedProbeResult): 0 | 1 {
  if (result.opened < result.connections || result.pinned.oneWorker < result.pinned.connections) return 1;
  if (result.disruption && result.disruption.unconnected > 0) return 1;
  const holding = result.workers.filter((w) => w.openAtStart > 0).length;
  if (result.workersExpected !== null && holding < result.workersExpected) return 1;
  return 0;
}
