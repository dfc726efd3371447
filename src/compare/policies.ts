/**
 * `cluster-demo compare --policies`: a single process and the cluster under each scheduling policy (rr,
 * none, and reuseport where this Node has it), each its own child process, under the same load from this
 * process's engine; every run visits every contender, in an order that rotates and reverses so drift hits
 * all alike. Returns data; report/policies-report.ts renders it.
 */
import os from 'node:os';
import { roundInterval, summarize, type CompareObserver, type CompareOptions, type ContenderSummary } from './runner.js';
import { measureSample, startServe, startSingle, stopIfAborted, warmUp, workloadsFor, type Sample } from './workloads.js';
import { pairedRatio, perRunRatios } from '../statistics/fairness.js';
import { medianInterval, MIN_PAIRS_95, type Interval } from '../statistics/interval.js';
import { supportsReusePort, type SchedulingPolicy } from '../cluster/policy.js';
import type { SpawnedServer } from '../cluster/spawn.js';

export type PolicyContender = 'single' | SchedulingPolicy;

export interface PolicyResult extends Omit<ContenderSummary, 'label'> {
  policy: PolicyContender;
  /**
   * req/s over the single process's: the median of the per-run ratios (every run visits every contender, so a
   * run's ratio is a pair measured side by side); 1 for the single process itself.
   */
  vsSingle: number;
  /** The exact 95% interval of that median (statistics/interval.ts); null with fewer than 6 runs, and for the single process. */
  vsSingleInterval: Interval | null;
}

export interface PolicyWorkload {
  /** app: a path of the user's app (`path`). */
  name: 'light' | 'heavy' | 'mixed' | 'app';
  /** name app: the path measured. */
  path?: string;
  description: string;
  results: PolicyResult[];
  /** One line, written from the figures. */
  verdict: string;
}

export interface PoliciesResult {
  mode: 'policies';
  /** The user's app every contender ran (its entry as given); absent for the demo server. */
  app?: string;
  cores: number;
  workers: number;
  runs: number;
  concurrency: number;
  n: number;
  /** Policies this Node could not run (reuseport before 22.12), with why. */
  skipped: Array<{ policy: SchedulingPolicy; reason: string }>;
  workloads: PolicyWorkload[];
}

/** The order of run `run` (0-based) over n contenders: rotated by run, reversed every other run. */
export function runOrder(n: number, run: number): number[] {
  const rotated = Array.from({ length: n }, (_, i) => (i + run) % n);
  return run % 2 === 1 ? rotated.reverse() : rotated;
}

const MECHANISM: Record<PolicyContender, string> = {
  single: 'one process',
  rr: 'the primary accepts every connection and hands it to a worker over IPC',
  none: 'the workers accept on one shared socket',
  reuseport: 'a socket per worker, the kernel spreads connections, the primary is out of the path',
  'least-conn': 'the primary accepts every connection and hands it to the worker with the fewest open',
  'ip-hash': 'the primary accepts every connection and hands it to the worker the client address hashes to',
};

/** Where a new connection goes while one worker is busy with a long request. */
const WHILE_BUSY: Record<PolicyContender, string> = {
  single: 'the one process is busy',
  rr: 'the primary hands connections out in turn, the busy worker included',
  none: 'an idle worker accepts first',
  reuseport: 'the kernel picks a socket by hash, busy worker or not',
  'least-conn': 'the worker with the fewest open connections, busy or not (a short request closes its connection soon)',
  'ip-hash': 'the worker the client address hashes to, busy or not',
};

/** Which policy cost what against the single process, from the per-run ratios' medians. Pure. */
export function policiesVerdict(workload: Pick<PolicyWorkload, 'name' | 'path' | 'results'>, workers: number, cores: number): string {
  const cluster = workload.results.filter((r) => r.policy !== 'single');
  const name = workload.name === 'app' ? (workload.path ?? 'app') : workload.name;
  if (cluster.length === 0) return `${name}: nothing to compare`;
  /** The contender with the smallest `by`. */
  const least = (by: (r: PolicyResult) => number) => cluster.reduce((a, b) => (by(b) < by(a) ? b : a));
  if (workload.name === 'mixed') {
    const fastest = least((r) => r.latencyMs.p50);
    const slowest = least((r) => -r.latencyMs.p50);
    const latencies = workload.results.map((r) => `${r.policy} ${r.latencyMs.p50.toFixed(2)} ms`).join(', ');
    return `mixed: /pid p50 while a worker is busy — ${latencies}: fastest with ${fastest.policy} (${WHILE_BUSY[fastest.policy]}), slowest with ${slowest.policy} (${WHILE_BUSY[slowest.policy]})`;
  }
  const interval = (r: PolicyResult) => (r.vsSingleInterval ? ` (${r.vsSingleInterval.low.toFixed(2)}–${r.vsSingleInterval.high.toFixed(2)})` : '');
  const parts = cluster.map((r) => `${r.policy} ${r.vsSingle.toFixed(2)}×${interval(r)}`).join(', ');
  let reading: string;
  if (workload.name === 'heavy') reading = `the limit on this machine is ${Math.min(workers, cores)}× (min(workers ${workers}, cores ${cores}))`;
  else if (cluster.length < 2) reading = `${cluster[0]!.policy} alone`;
  else if (cluster.some((r) => !r.vsSingleInterval)) reading = `too few runs for 95% intervals (${MIN_PAIRS_95} or more: --runs ${MIN_PAIRS_95}): this run cannot rank the policies`;
  else reading = rankByIntervals(cluster);
  return `${name}: vs one process — ${parts}: ${reading}`;
}

/**
 * The costliest policy is named only when its interval lies wholly below every other's, the cheapest only when
 * wholly above: the same rule as every other verdict (statistics/interval.ts). The rest: no difference shown.
 */
function rankByIntervals(cluster: PolicyResult[]): string {
  const others = (r: PolicyResult) => cluster.filter((o) => o !== r);
  const costliest = cluster.find((r) => others(r).every((o) => r.vsSingleInterval!.high < o.vsSingleInterval!.low));
  const cheapest = cluster.find((r) => others(r).every((o) => r.vsSingleInterval!.low > o.vsSingleInterval!.high));
  const rest = cluster.filter((r) => r !== costliest && r !== cheapest).map((r) => r.policy);
  const restText = rest.length > 1 ? `between ${rest.slice(0, -1).join(', ')} and ${rest.at(-1)} no difference this run can show` : '';
  if (costliest && cheapest) return `${costliest.policy} costs the most (${MECHANISM[costliest.policy]}), ${cheapest.policy} the least (${MECHANISM[cheapest.policy]})${restText ? `; ${restText}` : ''}`;
  if (costliest) return `${costliest.policy} costs the most (${MECHANISM[costliest.policy]})${restText ? `; ${restText}` : ''}`;
  if (cheapest) return `${cheapest.policy} costs the least (${MECHANISM[cheapest.policy]})${restText ? `; ${restText}` : ''}`;
  return 'their 95% intervals overlap: no difference between the policies this run can show';
}

export async function runPolicies(options: CompareOptions, observer: CompareObserver = {}): Promise<PoliciesResult> {
  // A user's app runs once per contender, all at once, each on a free port it takes from PORT=0: SO_REUSEPORT
  // needs every worker on one fixed port, so reuseport is left out for an app.
  const reusePort = supportsReusePort() && !options.app;
  const policies: SchedulingPolicy[] = reusePort ? ['rr', 'none', 'reuseport'] : ['rr', 'none'];
  const skipped = reusePort
    ? []
    : [{ policy: 'reuseport' as const, reason: options.app ? 'with --app every contender runs its own copy of the app on a free port (PORT=0), and SO_REUSEPORT needs one fixed port' : `needs Node.js 22.12 or newer (this is ${process.version})` }];
  const contenders: Array<{ policy: PolicyContender; start: () => Promise<SpawnedServer> }> = [
    { policy: 'single', start: () => startSingle(options.signal, options.app) },
    ...policies.map((sched) => ({ policy: sched, start: () => startServe(options.workers, sched, options.signal, options.app) })),
  ];
  const paths = options.app ? (options.paths ?? ['/']) : options.paths;
  const servers: SpawnedServer[] = [];
  try {
    observer.onStatus?.('starting servers');
    for (const contender of contenders) {
      servers.push(await contender.start());
      stopIfAborted(options.signal);
    }
    const targets = servers.map((s) => new URL(s.url));
    observer.onStatus?.('warming up');
    for (const target of targets) await warmUp(target, { keepAlive: false }, { ...options, paths });
    const workloads: PolicyWorkload[] = [];
    for (const workload of workloadsFor({ ...options, paths }, ['light', 'heavy', 'mixed'])) {
      const samples: Sample[][] = contenders.map(() => []);
      for (let run = 0; run < options.runs; run++) {
        for (const i of runOrder(contenders.length, run)) {
          observer.onStatus?.(`${workload.name}: run ${run + 1}/${options.runs} · ${contenders[i]!.policy}`);
          samples[i]!.push(await measureSample(workload, servers[i]!, { keepAlive: false }));
          stopIfAborted(options.signal);
        }
      }
      const summaries = contenders.map((c, i) => ({ policy: c.policy, ...summarize(c.policy, samples[i]!) }));
      const single = summaries[0]!.runsRps;
      const results: PolicyResult[] = summaries.map(({ label: _label, ...s }) => ({
        ...s,
        vsSingle: pairedRatio(s.runsRps, single).ratio,
        vsSingleInterval: s.policy === 'single' ? null : roundInterval(medianInterval(perRunRatios(s.runsRps, single))),
      }));
      const named = { name: workload.name, ...(workload.path !== undefined ? { path: workload.path } : {}) };
      workloads.push({ ...named, description: workload.description, results, verdict: policiesVerdict({ ...named, results }, options.workers, os.availableParallelism()) });
    }
    return { mode: 'policies', ...(options.app ? { app: options.app.entry } : {}), cores: os.availableParallelism(), workers: options.workers, runs: options.runs, concurrency: options.concurrency, n: options.n, skipped, workloads };
  } finally {
    await Promise.all(servers.map((s) => s.stop('SIGTERM')));
  }
}
