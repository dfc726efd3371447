/**
 * Row 6: the cluster under each scheduling policy against one process, light (/pid: the cost of getting a
 * connection to a worker) and heavy (/api/:n: does the policy keep every core busy). This is `compare
 * --policies` itself (runPolicies): every run visits every contender, the order rotated and reversed.
 */
import { runPolicies, type PoliciesResult, type PolicyWorkload } from '../../src/compare/policies.js';
import { supportsReusePort, type SchedulingPolicy } from '../../src/cluster/policy.js';
import { measured, r0, r2, ratioStats, skipped, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';

const POLICIES: SchedulingPolicy[] = ['rr', 'none', 'reuseport'];

function policyRow(spec: RowSpec, workload: PolicyWorkload, policy: SchedulingPolicy, divisor: number): RowResult {
  const single = workload.results.find((r) => r.policy === 'single')!;
  const cluster = workload.results.find((r) => r.policy === policy);
  if (!cluster) return skipped(spec, `not run on ${process.version}`);
  const pairs = cluster.runsRps.map((rps, i) => [rps / divisor, single.runsRps[i]!] as const);
  return measured(spec, ratioStats(pairs), `median req/s: ${policy} ${r0(cluster.rps)} vs one process ${r0(single.rps)}; generator CPU per request ${r0(cluster.generator.cpuPerRequestUs)} µs vs ${r0(single.generator.cpuPerRequestUs)} µs; failed ${cluster.failed}. compare's verdict: "${workload.verdict}"`);
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
    ctx.log(`  runPolicies: ${ctx.pick(5, 2)} runs of light, heavy and mixed`);
    const result: PoliciesResult = await runPolicies(
      { mode: 'single-vs-cluster', workers, concurrency: 50, n, runs: ctx.pick(5, 2), timeoutMs: 60_000, connections: 1, requests: undefined },
      { onStatus: (line) => ctx.log(`  ${line}`) },
    );
    const out = ctx.group('6. Scheduling policies (req/s per run, in the order each run visited them)');
    for (const w of result.workloads) for (const r of w.results) out.push(`${w.name} ${r.policy}: ${r.runsRps.map((v) => r2(v)).join(', ')}`);
    const workload = (name: 'light' | 'heavy') => result.workloads.find((w) => w.name === name)!;
    const noReusePort = supportsReusePort() ? null : `needs Node.js 22.12 or newer; this run is ${process.version} (run the bench with Node 24)`;
    return POLICIES.flatMap((p, i) =>
      p === 'reuseport' && noReusePort
        ? [skipped(light(p, i), noReusePort), skipped(heavy(p, i), noReusePort)]
        : [policyRow(light(p, i), workload('light'), p, 1), policyRow(heavy(p, i), workload('heavy'), p, limit)],
    );
  },
};
