/** Row 4: the exact sum (`sumTo`) against the seed's plain loop, per iteration, in this process. */
import { performance } from 'node:perf_hooks';
import { seedSumTo, sumTo } from '../../src/cluster/sum.js';
import { decides, measured, medianOf, r2, ratioStats, type BenchContext, type RowPlan, type RowResult } from '../lib/bench.js';

export const sumRow: RowPlan = {
  key: '4',
  name: '4. Exact sum',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const n = ctx.pick(2e8, 5e7);
    const spec = { id: '4', title: `Exact sum: cost per iteration of \`sumTo\` vs the seed's loop (n = ${n.toExponential(0)}, in-process)`, goal: { op: '<=', value: 1.2 }, goalText: '≤ 1.20×', unit: '×', digits: 2 } as const;
    const expected = (BigInt(n) * BigInt(n + 1)) / 2n;
    const time = (fn: (n: number) => unknown) => {
      const t0 = performance.now();
      const value = fn(n);
      return { ns: ((performance.now() - t0) * 1e6) / (n + 1), value };
    };
    // Both loops reach optimized code before anything is timed.
    time(sumTo);
    time(seedSumTo);
    const { kept, discarded, added } = await ctx.alternate(
      '4. Exact sum (ns per iteration, sumTo / seedSumTo)',
      'pair',
      ctx.pick(7, 3),
      async (flip) => {
        const order = flip ? (['seed', 'exact'] as const) : (['exact', 'seed'] as const);
        const got = {} as Record<'exact' | 'seed', { ns: number; value: unknown }>;
        for (const name of order) got[name] = time(name === 'exact' ? sumTo : seedSumTo);
        if (got.exact.value !== expected) throw new Error(`sumTo(${n}) = ${String(got.exact.value)}, expected ${expected}`);
        return { order, exact: got.exact.ns, seed: got.seed.ns };
      },
      (g) => `${g.order.join(' → ')}: ${g.exact.toFixed(3)} / ${g.seed.toFixed(3)} ns → ${r2(g.exact / g.seed)}×`,
      (pairs) => decides(spec.goal, pairs.map((g) => g.exact / g.seed)),
    );
    return [
      measured(
        spec,
        ratioStats(kept.map((g) => [g.exact, g.seed] as const), discarded, 'ratios (ns per iteration)', added),
        `\`sumTo\` (plain Number chunks of 2^20 iterations, each partial sum carried into a BigInt) ${medianOf(kept, (g) => g.exact)!.toFixed(3)} ns/iteration vs the seed's Number loop ${medianOf(kept, (g) => g.seed)!.toFixed(3)} ns/iteration (medians); sumTo's result checked against n(n+1)/2 on every run.`,
      ),
    ];
  },
};
