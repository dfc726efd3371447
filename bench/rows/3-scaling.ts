/**
 * Row 3: the cluster's speed-up on CPU-bound work (/api/:n) over one process, divided by what the machine
 * allows (min(workers, cores)). Measured with compare's own heavy workload and servers.
 */
import { measureSample, startServe, startSingle, warmUp, workloadsFor } from '../../src/compare/workloads.js';
import { decides, measured, medianOf, r2, ratioStats, type BenchContext, type RowPlan, type RowResult } from '../lib/bench.js';

export const scalingRow: RowPlan = {
  key: '3',
  name: '3. Scaling',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const { workers, cores } = ctx.settings;
    const limit = Math.min(workers, cores);
    const n = 50_000_000;
    const requests = ctx.pick(80, 20);
    const spec = { id: '3', title: `Scaling: cluster speed-up on /api/${n} over one process, ÷ min(workers ${workers}, cores ${cores}) = ${limit}`, goal: { op: '>=', value: 0.95 }, goalText: '≥ 0.95', unit: '', digits: 3 } as const;
    const servers = { single: await ctx.server('single process', startSingle), cluster: await ctx.server('serve rr', () => startServe(workers, 'rr')) };
    const options = { concurrency: 2 * workers, timeoutMs: 60_000, requests, n, workers };
    const [heavy] = workloadsFor(options, ['heavy']);
    for (const s of Object.values(servers)) await warmUp(new URL(s.url), { keepAlive: false }, options);
    const { kept, discarded, added } = await ctx.alternate(
      `3. Scaling, /api/${n} (req/s, cluster / single)`,
      'pair',
      ctx.pick(6, 3),
      async (flip) => {
        const order = flip ? (['cluster', 'single'] as const) : (['single', 'cluster'] as const);
        const got = {} as Record<'single' | 'cluster', number>;
        for (const side of order) got[side] = (await measureSample(heavy!, servers[side], { keepAlive: false })).report.rps;
        return { order, ...got };
      },
      (g) => `${g.order.join(' → ')}: ${r2(g.cluster)} / ${r2(g.single)} → speed-up ${r2(g.cluster / g.single)}×, ÷ ${limit} = ${r2(g.cluster / g.single / limit)}`,
      (pairs) => decides(spec.goal, pairs.map((g) => g.cluster / g.single / limit)),
    );
    return [
      measured(
        spec,
        ratioStats(kept.map((g) => [g.cluster / limit, g.single] as const), discarded, 'speed-ups ÷ limit (req/s)', added),
        `compare's heavy workload (a new connection per request, concurrency ${2 * workers}, ${requests} requests per run): single process ${r2(medianOf(kept, (g) => g.single)!)} req/s, cluster ${r2(medianOf(kept, (g) => g.cluster)!)} req/s (medians); median speed-up ${r2(medianOf(kept, (g) => g.cluster / g.single)!)}× with ${workers} workers on ${cores} cores.`,
      ),
    ];
  },
};
