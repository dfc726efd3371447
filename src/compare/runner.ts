/**
 * `cluster-demo compare`: two contenders under the same load, alternated A B A B, medians with their spread.
 * Both servers run as child processes, so neither shares an event loop with the load generator (which runs
 * here, the same engine as `probe`). Returns data; report/compare-report.ts renders it.
 */
import os from 'node:os';
import { OptionsError } from '../core/errors.js';
import type { LoadOptions } from '../load/engine.js';
import type { SchedulingPolicy } from '../cluster/policy.js';
import { ServerStartError, type SpawnedServer } from '../cluster/spawn.js';
import { median, minMax, pairedRatio, perRunRatios, round } from '../statistics/fairness.js';
import { differenceState, medianInterval, type Difference, type Interval } from '../statistics/interval.js';
import { addCpu, generatorCost, type GeneratorCost } from '../statistics/generator.js';
import { measureSample, startServe, startSingle, stopIfAborted, warmUp, workloadsFor, type CompareApp, type Sample } from './workloads.js';


export type CompareMode = 'single-vs-cluster' | 'keepalive-vs-close' | 'rr-vs-none';

export interface CompareOptions {
  mode: CompareMode;
  workers: number;
  concurrency: number;
  /** Per workload, per run; undefined → the workload's default. */
  requests?: number;
  durationMs?: number;
  n: number;
  runs: number;
  timeoutMs: number;
  /** keepalive-vs-close: the keep-alive side's connection count (1: every request on one connection). */
  connections: number;
  /** Ctrl-C: the load in flight stops, the servers are stopped, and the run ends in CompareInterrupted. */
  signal?: AbortSignal;
  /** Both contenders run the user's app (`--app`), measured on `paths` (default ['/']). */
  app?: CompareApp;
  /** With app: the paths to measure, one workload each. */
  paths?: string[];
}

export interface ContenderSummary {
  label: string;
  /** Medians over the runs. */
  rps: number;
  latencyMs: { p50: number; p99: number; max: number };
  failed: number;
  workersSeen: number;
  fairness: { jain: number; maxMinRatio: number | null };
  /** min–max of req/s over the runs. */
  rpsRange: { min: number; max: number };
  /** Each run's req/s, in the order they ran. */
  runsRps: number[];
  /** What the generator (this process) spent sending to this contender, over its runs. */
  generator: GeneratorCost;
}

export interface WorkloadResult {
  /** app: a path of the user's app (`path`). */
  name: 'light' | 'heavy' | 'mixed' | 'app';
  /** name app: the path measured. */
  path?: string;
  /** What was measured, e.g. "GET /pid" or "GET /pid while 1 × /api/12000000 in flight". */
  description: string;
  a: ContenderSummary;
  b: ContenderSummary;
  /** B over A: the median of the per-run ratios (run i of B over run i of A, measured side by side). */
  ratio: number;
  /** min–max of the same per-run ratios. */
  ratioRange: { min: number; max: number };
  /** True when A's and B's req/s ranges overlap: the difference is within the run-to-run noise. */
  spreadExceedsDifference: boolean;
  /**
   * The exact order-statistic 95% interval of the median per-run ratio (statistics/interval.ts); null with
   * fewer than 6 runs. The verdict is read from it, as the bench reads its rows.
   */
  ratioInterval: Interval | null;
  /** B against A by that interval: higher (wholly above 1), lower (wholly below), or no-difference. */
  difference: Difference;
}

export interface CompareResult {
  mode: CompareMode;
  /** The user's app both contenders ran (its entry as given); absent for the demo server. */
  app?: string;
  cores: number;
  workers: number;
  runs: number;
  concurrency: number;
  n: number;
  workloads: WorkloadResult[];
}

/** The interval as the document carries it: ratios to 3 decimals, coverage to 4. */
export function roundInterval(interval: Interval | null): Interval | null {
  return interval && { low: round(interval.low, 3), high: round(interval.high, 3), coverage: round(interval.coverage, 4) };
}

export function validateCompareOptions(options: CompareOptions): void {
  if (options.requests !== undefined && options.durationMs !== undefined) throw new OptionsError('use either {requests} or {durationMs}, not both');
  if (options.mode === 'single-vs-cluster' && options.workers < 2) {
    throw new OptionsError('{singleVsCluster} needs at least 2 {workers} to compare against one process');
  }
}

interface Contender {
  label: string;
  server: () => Promise<SpawnedServer>;
  load: Pick<LoadOptions, 'keepAlive' | 'connections'>;
}

const CLOSE = { keepAlive: false } as const;

function contendersFor(options: CompareOptions): [Contender, Contender] {
  const cluster = (sched: SchedulingPolicy) => () => startServe(options.workers, sched, options.signal, options.app);
  const single = () => startSingle(options.signal, options.app);
  switch (options.mode) {
    case 'single-vs-cluster':
      return [
        { label: 'single process', server: single, load: CLOSE },
        { label: `cluster ×${options.workers}`, server: cluster('rr'), load: CLOSE },
      ];
    case 'keepalive-vs-close': {
      // One server for both sides: only the client's connection handling differs.
      let shared: Promise<SpawnedServer> | undefined;
      const server = () => (shared ??= cluster('rr')());
      return [
        { label: `keep-alive, ${options.connections} conn`, server, load: { keepAlive: true, connections: options.connections } },
        { label: 'new connection each', server, load: CLOSE },
      ];
    }
    case 'rr-vs-none':
      // The policy is fixed per process at the first fork, so each side is its own `serve` process.
      return [
        // A is rr and B none, in the order of the mode's name.
        { label: 'sched rr (Node)', server: cluster('rr'), load: CLOSE },
        { label: 'sched none (OS)', server: cluster('none'), load: CLOSE },
      ];
  }
}

export interface CompareObserver {
  onStatus?(line: string): void;
}

export function summarize(label: string, runs: Sample[]): ContenderSummary {
  const samples = runs.map((r) => r.report);
  const cpu = runs.reduce((sum, r) => addCpu(sum, r.cpu), { user: 0, system: 0 });
  const rps = samples.map((s) => s.rps);
  const ratios = samples.map((s) => s.fairness.maxMinRatio).filter((r): r is number => r !== null);
  return {
    label,
    rps: round(median(rps), 1),
    latencyMs: {
      p50: round(median(samples.map((s) => s.latencyMs.p50))),
      p99: round(median(samples.map((s) => s.latencyMs.p99))),
      max: round(Math.max(...samples.map((s) => s.latencyMs.max))),
    },
    failed: samples.reduce((sum, s) => sum + s.failed, 0),
    workersSeen: Math.max(...samples.map((s) => s.workersSeen)),
    fairness: {
      jain: round(median(samples.map((s) => s.fairness.jain)), 4),
      maxMinRatio: ratios.length === samples.length ? round(median(ratios), 3) : null,
    },
    rpsRange: minMax(rps),
    runsRps: rps,
    generator: generatorCost(cpu, samples.reduce((sum, s) => sum + s.requests, 0), runs.reduce((sum, r) => sum + r.wallMs, 0)),
  };
}

/** A contender that did not start is named in the one line: which of the two failed matters. */
async function startContender(contender: Contender): Promise<SpawnedServer> {
  try {
    return await contender.server();
  } catch (err) {
    if (err instanceof ServerStartError) throw new ServerStartError(`${contender.label} did not start: ${err.message}`, err.output);
    throw err;
  }
}

export async function runCompare(options: CompareOptions, observer: CompareObserver = {}): Promise<CompareResult> {
  validateCompareOptions(options);
  const [contenderA, contenderB] = contendersFor(options);
  const servers: SpawnedServer[] = [];
  try {
    observer.onStatus?.('starting servers');
    const serverA = await startContender(contenderA);
    servers.push(serverA);
    stopIfAborted(options.signal);
    const serverB = await startContender(contenderB);
    if (serverB !== serverA) servers.push(serverB);
    stopIfAborted(options.signal);
    const targetA = new URL(serverA.url);
    const targetB = new URL(serverB.url);

    observer.onStatus?.('warming up');
    const warm = { ...options, paths: options.app ? (options.paths ?? ['/']) : options.paths };
    await warmUp(targetA, contenderA.load, warm);
    await warmUp(targetB, contenderB.load, warm);

    const workloads: WorkloadResult[] = [];
    const paths = options.app ? (options.paths ?? ['/']) : options.paths;
    for (const workload of workloadsFor({ ...options, paths }, options.mode === 'single-vs-cluster' ? ['light', 'heavy', 'mixed'] : ['light', 'heavy'])) {
      const samplesA: Sample[] = [];
      const samplesB: Sample[] = [];
      for (let run = 1; run <= options.runs; run++) {
        // Alternate A B A B so that drift (thermal, other load) hits both sides alike.
        observer.onStatus?.(`${workload.name}: run ${run}/${options.runs} · ${contenderA.label}`);
        samplesA.push(await measureSample(workload, serverA, contenderA.load));
        stopIfAborted(options.signal);
        observer.onStatus?.(`${workload.name}: run ${run}/${options.runs} · ${contenderB.label}`);
        samplesB.push(await measureSample(workload, serverB, contenderB.load));
        stopIfAborted(options.signal);
      }
      const a = summarize(contenderA.label, samplesA);
      const b = summarize(contenderB.label, samplesB);
      // The same statistic as the bench: the median of the per-run (paired) ratios, and their min–max.
      const paired = pairedRatio(b.runsRps, a.runsRps);
      const interval = roundInterval(medianInterval(perRunRatios(b.runsRps, a.runsRps)));
      workloads.push({
        name: workload.name,
        ...(workload.path !== undefined ? { path: workload.path } : {}),
        description: workload.description,
        a,
        b,
        ratio: paired.ratio,
        ratioRange: paired.range,
        spreadExceedsDifference: a.rpsRange.max >= b.rpsRange.min && b.rpsRange.max >= a.rpsRange.min,
        ratioInterval: interval,
        difference: differenceState(interval),
      });
    }
    return {
      mode: options.mode,
      ...(options.app ? { app: options.app.entry } : {}),
      cores: os.availableParallelism(),
      workers: options.workers,
      runs: options.runs,
      concurrency: options.concurrency,
      n: options.n,
      workloads,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop('SIGTERM')));
  }
}
