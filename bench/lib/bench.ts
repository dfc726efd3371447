/**
 * What every benchmark row shares: the typed result of a row, the servers (spawned once, shared, stopped on
 * every way out), the alternation of contenders (A B, then B A: drift hits both alike; a pair measured while
 * other processes used the machine is measured again), and the statistics of the pairs.
 */
import type { SpawnedServer } from '../../src/cluster/spawn.js';
import { singleEntryPath, spawnServe, spawnServer } from '../../src/cluster/spawn.js';
import { median, minMax } from '../../src/statistics/fairness.js';
import { goalState, medianInterval, type Goal, type GoalState, type Interval } from '../../src/statistics/interval.js';
import { foreignCpuSince, snapshotCpu, treeCpuSeconds } from './background.js';
import { haveTool, INSTALL_HINT, PACKAGE_OF, type ToolName } from './tools.js';

export type { Goal, GoalState, Interval };

/** What a row is, before it is measured. */
export interface RowSpec {
  id: string;
  title: string;
  /** null: recorded as information. */
  goal: Goal | null;
  /** How the goal reads in the table, e.g. "≥ 0.97×". */
  goalText: string;
  unit: string;
  digits: number;
}

/** A row as RESULTS.md shows it. Built once, from its spec and what was measured. */
export type RowResult = RowSpec & {
  /** CPU of other processes while the row ran, as a share of all cores. */
  foreignShare?: number;
} & (
    | {
        status: 'measured';
        median: number;
        range: { min: number; max: number } | null;
        /** The exact 95% interval of the median (null: too few pairs, or a row of single runs). */
        interval: Interval | null;
        pairs: string;
        /** What the figure is, e.g. "median of 11 per-pair ratios (req/s)". */
        statistic: string;
        /** From the interval against the goal (statistics/interval.ts); null for a row without a goal. */
        state: GoalState | null;
        detail: string;
      }
    | { status: 'skipped'; reason: string }
    | { status: 'error'; reason: string }
  );

export interface PairStats {
  median: number;
  range: { min: number; max: number } | null;
  /** Undefined for a row of single runs (row 5): no pairs, so no interval; its state is given. */
  interval?: Interval | null;
  pairs: string;
  statistic: string;
}

/**
 * The row from its statistic. A row with pairs is judged on its interval (pass, miss or inconclusive); a row of
 * single runs (row 5's memory peaks) gives its state, said as such in its statistic.
 */
export function measured(spec: RowSpec, stats: PairStats, detail: string, singleRunState?: GoalState): RowResult {
  const state = spec.goal === null ? null : stats.interval === undefined ? (singleRunState ?? null) : goalState(stats.interval, spec.goal);
  return { ...spec, status: 'measured', median: stats.median, range: stats.range, interval: stats.interval ?? null, pairs: stats.pairs, statistic: stats.statistic, state, detail };
}

export function skipped(spec: RowSpec, reason: string): RowResult {
  return { ...spec, status: 'skipped', reason };
}

/** The median of per-pair values, their min–max and their interval. `what`: e.g. "ratios (req/s)". */
export function pairStats(values: readonly number[], what: string, discarded = 0, added = 0): PairStats {
  const finite = values.filter((v) => Number.isFinite(v));
  const extra = [discarded ? `+${discarded} discarded` : '', added ? `${added} added to decide` : ''].filter(Boolean).join(', ');
  return {
    median: median(finite),
    range: minMax(finite),
    interval: medianInterval(finite),
    pairs: extra ? `${finite.length} (${extra})` : String(finite.length),
    statistic: `median of ${finite.length} per-pair ${what}`,
  };
}

/** Ratios a / b per pair: their median, min–max and 95% interval. */
export function ratioStats(pairs: ReadonlyArray<readonly [number, number]>, discarded = 0, what = 'ratios (req/s)', added = 0): PairStats {
  return pairStats(pairs.map(([a, b]) => a / b), what, discarded, added);
}

/** "1.02× (95% interval 0.98–1.05×)": a ratio quoted beside a row's figure, with its own interval. */
export function ratioWithInterval(values: readonly number[]): string {
  const stats = pairStats(values, '');
  return `${r2(stats.median)}× (${stats.interval ? `95% interval ${r2(stats.interval.low)}–${r2(stats.interval.high)}×` : 'no interval: fewer than 6 pairs'})`;
}

/** Whether values already decide a goal (or there is none): the bench stops adding pairs then. */
export function decides(goal: Goal | null, values: readonly number[]): boolean {
  return goal === null || goalState(medianInterval(values.filter((v) => Number.isFinite(v))), goal) !== 'inconclusive';
}

export const r0 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '?' : String(Math.round(v)));
export const r2 = (v: number) => (Math.round(v * 100) / 100).toFixed(2);
export const pct = (share: number) => `${(share * 100).toFixed(0)}%`;

/** The median of the defined, finite values picked. */
export function medianOf<T>(items: readonly T[], pick: (item: T) => number | undefined): number | undefined {
  const values = items.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return values.length ? median(values) : undefined;
}

export interface BenchSettings {
  quick: boolean;
  /** Per row: how long the bench may keep adding pairs while a goal row is inconclusive, seconds. */
  budgetS: number;
  workers: number;
  cores: number;
  /** A pair during which other processes used more than this share of all cores is measured again. */
  pairForeignLimit: number;
  extraPairs: number;
}

export class BenchContext {
  /** Every pair or run, per group, in the order they ran (RESULTS.md lists them). */
  readonly runs: Record<string, string[]> = {};
  private readonly servers = new Map<string, Promise<SpawnedServer>>();
  /** Servers a row starts and stops itself (fresh ones per pair), while they run. */
  private readonly transient = new Set<SpawnedServer>();

  constructor(
    readonly settings: BenchSettings,
    readonly log: (line: string) => void,
  ) {}

  /** The log of one group of runs (created on first use). */
  group(name: string): string[] {
    return (this.runs[name] ??= []);
  }

  /** `count` unless --quick, then `quick`. */
  pick(count: number, quick: number): number {
    return this.settings.quick ? quick : count;
  }

  /** A server started once (by name) and shared by every row that asks for it. */
  server(name: string, start: () => Promise<SpawnedServer>): Promise<SpawnedServer> {
    let promise = this.servers.get(name);
    if (!promise) {
      promise = start();
      this.servers.set(name, promise);
      promise.catch(() => this.servers.delete(name));
    }
    return promise;
  }

  /** `cluster-demo serve --port 0 --workers <workers>` plus `args`. */
  serve(args: string[] = []): Promise<SpawnedServer> {
    return this.server(`serve ${args.join(' ')}`.trim(), () => spawnServe(['--port', '0', '--workers', String(this.settings.workers), ...args], { readyTimeoutMs: 30_000 }));
  }

  single(): Promise<SpawnedServer> {
    return this.server('single process', () => spawnServer(singleEntryPath(), ['0', '127.0.0.1'], { readyTimeoutMs: 30_000 }));
  }

  async stopServers(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((p) => p.then((s) => s.stop('SIGTERM', 10_000)).catch(() => undefined)));
  }

  /** A server the row stops itself (a fresh one per pair), killed with the shared ones on an exit we did not plan. */
  async transientServer(start: () => Promise<SpawnedServer>): Promise<SpawnedServer> {
    const server = await start();
    this.transient.add(server);
    void server.exited.then(() => this.transient.delete(server));
    return server;
  }

  /** Kills every server now (an exit we did not plan). */
  killServers(): void {
    for (const p of this.servers.values()) p.then((s) => s.child.kill('SIGKILL')).catch(() => undefined);
    for (const s of this.transient) s.child.kill('SIGKILL');
  }

  /** null when every tool is on PATH; else the line that says how to install the missing ones. */
  missingTools(tools: ToolName[]): string | null {
    const missing = tools.filter((t) => !haveTool(t));
    if (missing.length === 0) return null;
    const line = `${missing.join(', ')} not installed (Debian package${missing.length > 1 ? 's' : ''} ${missing.map((t) => PACKAGE_OF[t]).join(', ')}); install with \`${INSTALL_HINT}\``;
    this.log(`  skipping: ${line}`);
    return line;
  }

  /**
   * Runs `count` pairs (or rounds); `runPair(flip, later)` measures both sides, in reverse order when flip is
   * true; what it hands to `later` (stopping the fresh servers it started) runs once the pair's share of other
   * processes is read, so their shutdown is not counted as another process's load (workers that outlive their
   * primary are reaped by init, not by us). A
   * pair during which other processes used more than pairForeignLimit of the machine is measured again (at
   * most extraPairs times); the discarded ones stay in the log. Then, while `decided(kept)` is false (a goal row
   * whose interval straddles its goal), pairs are added until it is true or the row's budget (--budget) is
   * spent; `added` says how many.
   */
  async alternate<T>(
    group: string,
    label: string,
    count: number,
    runPair: (flip: boolean, later: (cleanup: () => Promise<unknown>) => void) => Promise<T>,
    describe: (pair: T) => string,
    decided: (kept: readonly T[]) => boolean = () => true,
  ): Promise<{ kept: T[]; discarded: number; added: number }> {
    const out = this.group(group);
    const kept: T[] = [];
    let discarded = 0;
    let deadline: number | null = null;
    for (;;) {
      if (kept.length >= count) {
        if (decided(kept)) break;
        deadline ??= Date.now() + this.settings.budgetS * 1000;
        if (Date.now() >= deadline) {
          out.push(`still inconclusive after ${kept.length} pairs: the budget of ${this.settings.budgetS} s for added pairs is spent`);
          this.log(`  ${label} ${out[out.length - 1]}`);
          break;
        }
      }
      const snapshot = snapshotCpu();
      const cleanups: Array<() => Promise<unknown>> = [];
      let pair: T;
      let share: number;
      try {
        pair = await runPair(kept.length % 2 === 1, (cleanup) => cleanups.push(cleanup));
        share = foreignCpuSince(snapshot)?.share ?? 0;
      } finally {
        await Promise.all(cleanups.map((cleanup) => cleanup()));
      }
      if (share > this.settings.pairForeignLimit && discarded < this.settings.extraPairs) {
        discarded++;
        out.push(`discarded (other processes used ${pct(share)} of the cores): ${describe(pair)}`);
        this.log(`  ${label} ${out[out.length - 1]}`);
        continue;
      }
      kept.push(pair);
      const tag = kept.length > count ? ' (added: inconclusive so far)' : '';
      out.push(`${label} ${kept.length}${tag}: ${describe(pair)}${share > 0 ? ` [other processes ${pct(share)}]` : ''}`);
      this.log(`  ${out[out.length - 1]}`);
    }
    return { kept, discarded, added: Math.max(0, kept.length - count) };
  }
}

/** Runs `fn` and adds the CPU seconds the server (primary and workers) spent meanwhile. */
export async function withServerCpu<T extends object>(server: SpawnedServer, fn: () => Promise<T>): Promise<T & { serverCpuS: number | undefined }> {
  const before = treeCpuSeconds(server.pid);
  const result = await fn();
  const after = treeCpuSeconds(server.pid);
  return { ...result, serverCpuS: before === null || after === null ? undefined : after - before };
}

/** µs of CPU per request, from CPU seconds over a run of `completed` requests. */
export function usPerRequest(seconds: number | undefined, completed: number): number | undefined {
  return seconds === undefined || !completed ? undefined : (seconds * 1e6) / completed;
}

/** One bench row (or group of rows), in a file of its own under bench/rows/. */
export interface RowPlan {
  /** What `--rows` selects, e.g. '1'. */
  key: string;
  name: string;
  run(ctx: BenchContext): Promise<RowResult[]>;
}
