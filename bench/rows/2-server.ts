/**
 * Row 2: `cluster-demo serve` against the seed's Express 5 cluster (test/fixtures/seed-cluster.mjs), 2 workers
 * each, GET /pid: wrk with keep-alive connections, ab with a new connection per request. A/B flipped per pair.
 */
import { fileURLToPath } from 'node:url';
import { spawnServer, type SpawnedServer } from '../../src/cluster/spawn.js';
import { measured, medianOf, r0, r2, ratioStats, skipped, usPerRequest, withServerCpu, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';
import { runAb, runWrk, type ToolResult } from '../lib/tools.js';

const SEED = fileURLToPath(new URL('../../test/fixtures/seed-cluster.mjs', import.meta.url));

type Side = 'ours' | 'seed';

/** Both servers under `tool`, alternated; the row from the kept pairs. */
async function compareServers(ctx: BenchContext, spec: RowSpec, servers: Record<Side, SpawnedServer>, name: string, tool: (url: string) => Promise<ToolResult>): Promise<RowResult> {
  const { kept, discarded } = await ctx.alternate(
    `2. Server, ${name} (req/s, ours / seed)`,
    `${name} pair`,
    ctx.pick(5, 3),
    async (flip) => {
      const order: Side[] = flip ? ['seed', 'ours'] : ['ours', 'seed'];
      const got = {} as Record<Side, ToolResult & { serverCpuS: number | undefined }>;
      for (const side of order) got[side] = await withServerCpu(servers[side], () => tool(`${servers[side].url}/pid`));
      return { order, ...got };
    },
    (g) => `${g.order.join(' → ')}: ${r0(g.ours.rps)} / ${r0(g.seed.rps)} → ${r2(g.ours.rps / g.seed.rps)}×`,
  );
  const side = (s: Side) => kept.map((g) => g[s]);
  const cpu = (s: Side) => r0(medianOf(side(s), (x) => usPerRequest(x.serverCpuS, x.completed)));
  const errors = (s: Side) => side(s).reduce((sum, x) => sum + x.errors, 0);
  return measured(
    spec,
    ratioStats(kept.map((g) => [g.ours.rps, g.seed.rps] as const), discarded),
    `cluster-demo serve ${r0(medianOf(side('ours'), (x) => x.rps))} req/s vs the seed's Express 5 cluster ${r0(medianOf(side('seed'), (x) => x.rps))} req/s (medians), ${ctx.settings.workers} workers each; server CPU per request (primary + workers): ours ${cpu('ours')} µs, seed ${cpu('seed')} µs; errors: ours ${errors('ours')}, seed ${errors('seed')}.`,
  );
}

export const serverRow: RowPlan = {
  key: '2',
  name: '2. Server vs the seed',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const wrkSeconds = ctx.pick(3, 1);
    const abRequests = ctx.pick(10_000, 3000);
    const wrkSpec: RowSpec = { id: '2a', title: `Server vs seed Express cluster, \`wrk -t1 -c50 -d${wrkSeconds}s\` (keep-alive, /pid)`, goal: { op: '>=', value: 3 }, goalText: '≥ 3.00×', unit: '×', digits: 2 };
    const abSpec: RowSpec = { id: '2b', title: `Server vs seed Express cluster, \`ab -c 50 -n ${abRequests}\` (new connection per request, /pid)`, goal: { op: '>=', value: 1.25 }, goalText: '≥ 1.25×', unit: '×', digits: 2 };
    const noWrk = ctx.missingTools(['wrk']);
    const noAb = ctx.missingTools(['ab']);
    if (noWrk && noAb) return [skipped(wrkSpec, noWrk), skipped(abSpec, noAb)];
    const servers = {
      ours: await ctx.serve(),
      seed: await ctx.server('seed Express cluster', () => spawnServer(SEED, [], { env: { WORKERS: String(ctx.settings.workers), PORT: '0' }, readyTimeoutMs: 30_000 })),
    };
    const timeoutMs = 60_000;
    const wrk = (url: string) => runWrk(url, { threads: 1, connections: 50, durationS: wrkSeconds, timeoutMs });
    const ab = (url: string) => runAb(url, { concurrency: 50, requests: abRequests, timeoutMs });
    ctx.log('  warm-up');
    for (const s of Object.values(servers)) {
      if (!noWrk) await runWrk(`${s.url}/pid`, { threads: 1, connections: 50, durationS: 1, timeoutMs });
      if (!noAb) await runAb(`${s.url}/pid`, { concurrency: 50, requests: 2000, timeoutMs });
    }
    return [
      noWrk ? skipped(wrkSpec, noWrk) : await compareServers(ctx, wrkSpec, servers, 'wrk keep-alive', wrk),
      noAb ? skipped(abSpec, noAb) : await compareServers(ctx, abSpec, servers, 'ab close', ab),
    ];
  },
};
