/**
 * The cluster's settings: options with their defaults, checked once; Node's scheduling policy, fixed per
 * process; the port (0 → a free one); what every worker is told at fork time; and the worker's entry file.
 */
import cluster from 'node:cluster';
import os from 'node:os';
import { builtFile } from '../core/built-file.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { ClusterStartError, SchedulingPolicyError, type ClusterOptions } from './cluster-api.js';
import { DEFAULT_MAX_N } from './handler.js';
import { describeListenError } from './listen-errors.js';
import type { ServeProtocol } from './demo-server.js';
import type { WorkerConfig } from './messages.js';
import { describeCertificate, selfSignedCertificate, type CertificateInfo, type TlsMaterial } from './tls/certificate.js';
import { isBalancedPolicy, reusePortUnsupported, type SchedulingPolicy } from './policy.js';
import { assertPortFree, findFreePort } from './ports.js';

export interface ClusterSettings extends Omit<ClusterOptions, 'backoff' | 'stats'> {
  host: string;
  port: number;
  workers: number;
  cpus: number;
  policy: SchedulingPolicy;
  maxN: number;
  graceMs: number;
  readyTimeoutMs: number;
  backoff: BackoffOptions;
  workerExecArgv: string[];
  protocol: ServeProtocol;
  /** count: workers keep and report counters; endpoints: the stats routes answer (else 404). */
  stats: { count: boolean; endpoints: boolean };
  /** Where the primary's own stats routes bind (`statsPort`): loopback, or every interface with `stats: true`. */
  statsHost: string;
}

export function clusterSettings(options: ClusterOptions): ClusterSettings {
  const workers = options.workers ?? os.availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer (got ${workers})`);
  const policy = options.sched ?? 'rr';
  const unsupported = policy === 'reuseport' ? reusePortUnsupported() : null;
  if (unsupported) throw new SchedulingPolicyError(unsupported);
  if (options.app && isBalancedPolicy(policy)) throw new SchedulingPolicyError(`--sched ${policy} hands each connection to our own server; a user's app listens itself: use --sched rr, none or reuseport with --app`);
  return {
    ...options,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 3000,
    workers,
    cpus: os.availableParallelism(),
    policy,
    maxN: options.maxN ?? DEFAULT_MAX_N,
    graceMs: options.graceMs ?? 10_000,
    readyTimeoutMs: options.readyTimeoutMs ?? (options.app ? 10_000 : 30_000),
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    workerExecArgv: options.workerExecArgv ?? [],
    protocol: options.protocol ?? 'http',
    stats: statsSettings(options.stats, options.host ?? '127.0.0.1'),
    statsHost: options.stats === true ? '0.0.0.0' : '127.0.0.1',
  };
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Stats: counted unless turned off (false); the endpoints answer on a loopback bind by default, elsewhere only
 * when asked for (true), since they describe the cluster to whoever can reach the port.
 */
export function statsSettings(stats: boolean | undefined, host: string): { count: boolean; endpoints: boolean } {
  if (stats === false) return { count: false, endpoints: false };
  return { count: true, endpoints: stats === true || isLoopbackHost(host) };
}

/** Node's own policy behind ours: reuseport workers bind their own sockets, so the primary's is "none". */
let frozenNodePolicy: number | undefined;

/** Node reads cluster.schedulingPolicy once, at the first fork: a second cluster in this process must agree. */
export function freezeSchedulingPolicy(policy: SchedulingPolicy): void {
  // least-conn and ip-hash: the primary listens and hands out connections itself; no worker listens on the port.
  if (isBalancedPolicy(policy)) return;
  const nodePolicy = policy === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  if (frozenNodePolicy !== undefined && frozenNodePolicy !== nodePolicy) {
    throw new SchedulingPolicyError(
      `this process already runs a cluster with Node's ${frozenNodePolicy === cluster.SCHED_RR ? 'rr' : 'none'} policy; Node fixes it at the first fork, so --sched ${policy} needs a new process`,
    );
  }
  cluster.schedulingPolicy = nodePolicy;
  frozenNodePolicy = nodePolicy;
}

/** The port to serve on: 0 picks a free one; a busy port is one clear line (ClusterStartError). */
export async function resolvePort(settings: Pick<ClusterSettings, 'host' | 'port' | 'policy'>): Promise<number> {
  try {
    if (settings.port === 0) return await findFreePort(settings.host);
    // A plain bind first, before anything forks: a busy port is then one line and nothing else (not a fork, two
    // workers failing and their exits first). Under reuseport it is also the only check: SO_REUSEPORT sockets of
    // the same user join one group silently, so a port another reuseport program holds would be shared with it.
    await assertPortFree(settings.host, settings.port);
    return settings.port;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ClusterStartError(describeListenError(e.code ?? 'UNKNOWN', settings.host, settings.port, e.message), { cause: err });
  }
}

export function workerConfig(settings: ClusterSettings, port: number): WorkerConfig {
  return {
    host: settings.host,
    port,
    maxN: settings.maxN,
    primaryPid: process.pid,
    name: settings.name,
    reusePort: settings.policy === 'reuseport',
    handoff: isBalancedPolicy(settings.policy),
    protocol: settings.protocol,
    tls: settings.tls,
    stats: settings.stats,
    headersTimeoutMs: settings.headersTimeoutMs,
    requestTimeoutMs: settings.requestTimeoutMs,
    keepAliveTimeoutMs: settings.keepAliveTimeoutMs,
    maxConnectionAgeMs: settings.maxConnectionAgeMs,
  };
}

/** https and h2: the user's certificate, or a self-signed one made now (in memory), with what clients need to know. */
export async function certificateFor(settings: Pick<ClusterSettings, 'protocol' | 'tls'>): Promise<{ tls: TlsMaterial; info: CertificateInfo } | null> {
  if (settings.protocol === 'http') return null;
  const tls = settings.tls ?? (await selfSignedCertificate());
  return { tls, info: describeCertificate(tls.cert, settings.tls === undefined) };
}

/** The compiled worker entry; when these sources run as TypeScript (under vitest), the built copy in dist/. */
export function workerEntryPath(): string {
  return builtFile(import.meta.url, './worker.js', '../../dist/cluster/worker.js');
}
