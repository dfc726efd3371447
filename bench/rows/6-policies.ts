/**
 * Row 6: the cluster under each scheduling policy against one process, light (/pid: the cost of getting a
 * connection to a worker) and heavy (/api/:n: does the policy keep every core busy). This is `compare
 * --policies` itself (runPolicies): every run visits every contender, the order rotated and reversed.
 */
import { policiesVerdict, runPolicies, type PoliciesResult, type PolicyWorkload } from '../../src/compare/policies.js';
import { roundInterval } from '../../src/compare/runner.js';
import { median, minMax, pairedRatio, perRunRatios } from '../../src/statistics/fairness.js';
import { medianInterval } from '../../src/statistics/interval.js';
import { supportsReusePort, type SchedulingPolicy } from '../../src/cluster/policy.js';
import { decides, measured, r0, r2, ratioStats, skipped, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';

const POLICIES: SchedulingPolicy[] = ['rr', 'none', 'reuseport'];

function policyRow(spec: RowSpec, workload: PolicyWorkload, policy: SchedulingPolicy, divisor: number, added: number): RowResult {
  const single = workload.results.find((r) => r.policy === 'single')!;
  const cluster = workload.results.find((r) => r.policy === policy);
  if (!cluster) return skipped(spec, `not run on ${process.version}`);
  const pairs = cluster.runsRps.map((rps, i) => [rps / divisor, single.runsRps[i]!] as const);
  return measured(spec, ratioStats(pairs, 0, divisor === 1 ? 'ratios (req/s, a run of compare --policies each)' : 'speed-ups ÷ limit (req/s, a run each)', added), `median req/s: ${policy} ${r0(cluster.rps)} vs one process ${r0(single.rps)}; generator CPU per request ${r0(cluster.generator.cpuPerRequestUs)} µs vs ${r0(single.generator.cpuPerRequestUs)} µs; failed ${cluster.failed}. compare's verdict: "${workload.verdict}"`);
}

/** More runs of compare --policies added to a result: runs appended per policy, the ratios, intervals and verdicts recomputed. */
function mergeRuns(result: PoliciesResult, more: PoliciesResult, workers: number, cores: number): PoliciesResult {
  const workloads = result.workloads.map((w) => {
    const extra = more.workloads.find((m) => m.name === w.name)!;
    const merged = w.results.map((r) => {
      const runsRps = [...r.runsRps, ...(extra.results.find((e) => e.policy === r.policy)?.runsRps ?? [])];
      return { ...r, runsRps, rps: median(runsRps), rpsRange: minMax(runsRps) };
    });
    const single = merged.find((r) => r.policy === 'single')!.runsRps;
    const results = merged.map((r) => ({ ...r, vsSingle: pairedRatio(r.runsRps, single).ratio, vsSingleInterval: r.policy === 'single' ? null : roundInterval(medianInterval(perRunRatios(r.runsRps, single))) }));
    return { ...w, results, verdict: policiesVerdict({ name: w.name, results }, workers, cores) };
  });
  return { ...result, runs: result.runs + more.runs, workloads };
}

export const policiesRow: RowPlan = {
  key: '6',
  name: '6. Scheduling policies (compare --policies)',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const { workers, cores } = ctx.settings;
    const limit = Math.min(workers, cores);
    const n = 50_000_000;
    const light = (p: SchedulingPolicy, i: number): RowSpec => ({ id: `6${'abc'[i]}`, title: `Light /pid: cluster with --sched ${p} ÷ one process (c=50)`, goal: p === 'reuseport' ? { op: '>=', value: 0.95 } : null, goalText: p === 'reuseport' ? '≥ 0.95×' : 'none (info)', unit: '×', digits: 2 });
    const heavy = (p: SchedulingPolicy, i: number): RowSpec => ({ id: `6${'def'[i]}`, title: `Heavy /api/${n}: --sched ${p} speed-up ÷ min(workers ${workers}, cores ${cores}) = ${limit}`, goal: { op: '>=', value: 0.95 }, goalText: '≥ 0.95', unit: '', digits: 3 });
    const base = { mode: 'single-vs-cluster' as const, workers, concurrency: 50, n, timeoutMs: 60_000, connections: 1, requests: undefined };
    const runs = ctx.pick(6, 2);
    ctx.log(`  runPolicies: ${runs} runs of light, heavy and mixed`);
    let result: PoliciesResult = await runPolicies({ ...base, runs }, { onStatus: (line) => ctx.log(`  ${line}`) });
    // While a goal row's interval straddles its goal, two more runs at a time, within the row's budget.
    const goalValues = (r: PoliciesResult): Array<[RowSpec, number[]]> =>
      POLICIES.flatMap((p, i) => {
        const values = (name: 'light' | 'heavy', divisor: number) => {
          const w = r.workloads.find((x) => x.name === name)!;
          const single = w.results.find((x) => x.policy === 'single')!.runsRps;
          const cluster = w.results.find((x) => x.policy === p);
          return cluster ? perRunRatios(cluster.runsRps, single).map((v) => v / divisor) : [];
        };
        return [[light(p, i), values('light', 1)], [heavy(p, i), values('heavy', limit)]] as Array<[RowSpec, number[]]>;
      });
    const deadline = Date.now() + ctx.settings.budgetS * 1000;
    while (!goalValues(result).every(([spec, values]) => values.length === 0 || decides(spec.goal, values)) && Date.now() < deadline) {
      ctx.log('  a goal row is inconclusive: 2 more runs');
      result = mergeRuns(result, await runPolicies({ ...base, runs: 2 }, { onStatus: (line) => ctx.log(`  ${line}`) }), workers, cores);
    }
    const added = result.runs - runs;
    const out = ctx.group('6. Scheduling policies (req/s per run, in the order each run visited them)');
    for (const w of result.workloads) for (const r of w.results) out.push(`${w.name} ${r.policy}: ${r.runsRps.map((v) => r2(v)).join(', ')}`);
    const workload = (name: 'light' | 'heavy') => result.workloads.find((w) => w.name === name)!;
    const noReusePort = supportsReusePort() ? null : `needs Node.js 22.12 or newer; this run is ${process.version} (run the bench with Node 24)`;
    return POLICIES.flatMap((p, i) =>
      p === 'reuseport' && noReusePort
        ? [skipped(light(p, i), noReusePort), skipped(heavy(p, i), noReusePort)]
        : [policyRow(light(p, i), workload('light'), p, 1, added), policyRow(heavy(p, i), workload('heavy'), p, limit, added)],
    );
  },
};
