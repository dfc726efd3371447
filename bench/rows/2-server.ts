/**
 * Row 2: `cluster-demo serve` against the seed's Express 5 cluster (test/fixtures/seed-cluster.mjs; 2a, 2b) and
 * against a bare node:http cluster (bench/fixtures/bare-cluster.mjs; 2c, 2d: our own stack's cost over Node's
 * floor), 2 workers each, GET /pid: wrk with keep-alive connections, ab with a new connection per request. A/B
 * flipped per pair. 2a and 2b are speed-ups (req/s); 2c and 2d are overheads, judged on the server's CPU per
 * request (primary and workers, from /proc), with req/s beside.
 */
import { fileURLToPath } from 'node:url';
import { spawnServer, type SpawnedServer } from '../../src/cluster/spawn.js';
import { decides, measured, medianOf, pairStats, r0, r2, ratioWithInterval, skipped, usPerRequest, withServerCpu, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';
import { runAb, runWrk, type ToolResult } from '../lib/tools.js';

const SEED = fileURLToPath(new URL('../../test/fixtures/seed-cluster.mjs', import.meta.url));
const BARE = fileURLToPath(new URL('../fixtures/bare-cluster.mjs', import.meta.url));

type Side = 'ours' | 'other';

interface Other {
  /** In the group's title: "seed", "bare". */
  short: string;
  /** In the row's detail: "the seed's Express 5 cluster". */
  long: string;
  server: SpawnedServer;
}

type Pair = { order: Side[] } & Record<Side, ToolResult & { serverCpuS: number | undefined }>;

/**
 * The figure of a row: req/s ours ÷ other (a speed-up: rows 2a, 2b), or the server's CPU per request ours ÷
 * other (an overhead: rows 2c, 2d), per pair.
 */
type Figure = 'rps' | 'cpu';
const cpuPerRequest = (x: Pair[Side]) => usPerRequest(x.serverCpuS, x.completed) ?? NaN;
const figureOf = (figure: Figure, g: Pair) => (figure === 'rps' ? g.ours.rps / g.other.rps : cpuPerRequest(g.ours) / cpuPerRequest(g.other));

/** Both servers under `tool`, alternated; the row from the kept pairs, pairs added while its goal is undecided. */
async function compareServers(ctx: BenchContext, spec: RowSpec, ours: SpawnedServer, other: Other, name: string, tool: (url: string) => Promise<ToolResult>, figure: Figure): Promise<RowResult> {
  const servers: Record<Side, SpawnedServer> = { ours, other: other.server };
  const { kept, discarded, added } = await ctx.alternate(
    `2. Server, ${name} (req/s, ours / ${other.short}; server CPU per request)`,
    `${name} pair vs ${other.short}`,
    ctx.pick(6, 3),
    async (flip): Promise<Pair> => {
      const order: Side[] = flip ? ['other', 'ours'] : ['ours', 'other'];
      const got = {} as Record<Side, ToolResult & { serverCpuS: number | undefined }>;
      for (const side of order) got[side] = await withServerCpu(servers[side], () => tool(`${servers[side].url}/pid`));
      return { order, ...got };
    },
    (g) => `${g.order.map((side) => (side === 'ours' ? 'ours' : other.short)).join(' → ')}: ${r0(g.ours.rps)} / ${r0(g.other.rps)} → ${r2(g.ours.rps / g.other.rps)}×; CPU/req ${r0(cpuPerRequest(g.ours))} / ${r0(cpuPerRequest(g.other))} µs → ${r2(cpuPerRequest(g.ours) / cpuPerRequest(g.other))}×`,
    (pairs) => decides(spec.goal, pairs.map((g) => figureOf(figure, g))),
  );
  const side = (s: Side) => kept.map((g) => g[s]);
  const cpu = (s: Side) => r0(medianOf(side(s), cpuPerRequest));
  const errors = (s: Side) => side(s).reduce((sum, x) => sum + x.errors, 0);
  const rpsRatios = kept.map((g) => figureOf('rps', g));
  const cpuRatios = kept.map((g) => figureOf('cpu', g));
  const stats = pairStats(figure === 'rps' ? rpsRatios : cpuRatios, figure === 'rps' ? 'ratios (req/s)' : 'ratios (server CPU per request, primary + workers)', discarded, added);
  const beside = figure === 'rps'
    ? `server CPU per request ours ÷ ${other.short}: ${ratioWithInterval(cpuRatios)}`
    : `req/s ours ÷ ${other.short}: ${ratioWithInterval(rpsRatios)}`;
  return measured(
    spec,
    stats,
    `cluster-demo serve ${r0(medianOf(side('ours'), (x) => x.rps))} req/s vs ${other.long} ${r0(medianOf(side('other'), (x) => x.rps))} req/s (medians), ${ctx.settings.workers} workers each; server CPU per request (primary + workers, /proc): ours ${cpu('ours')} µs, ${other.short} ${cpu('other')} µs; beside the figure, ${beside}; errors: ours ${errors('ours')}, ${other.short} ${errors('other')}.`,
  );
}

export const serverRow: RowPlan = {
  key: '2',
  name: '2. Server vs the seed, and vs a bare node:http cluster',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const wrkSeconds = ctx.pick(3, 1);
    const abRequests = ctx.pick(10_000, 3000);
    const wrkTool = `\`wrk -t1 -c50 -d${wrkSeconds}s\` (keep-alive, /pid)`;
    const abTool = `\`ab -c 50 -n ${abRequests}\` (new connection per request, /pid)`;
    const specs: RowSpec[] = [
      { id: '2a', title: `Server vs seed Express cluster, ${wrkTool}`, goal: { op: '>=', value: 3 }, goalText: '≥ 3.00×', unit: '×', digits: 2 },
      { id: '2b', title: `Server vs seed Express cluster, ${abTool}`, goal: { op: '>=', value: 1.25 }, goalText: '≥ 1.25×', unit: '×', digits: 2 },
      { id: '2c', title: `Server CPU per request ÷ a bare node:http cluster's (our stack's cost), ${wrkTool}`, goal: { op: '<=', value: 1.1 }, goalText: '≤ 1.10×', unit: '×', digits: 2 },
      { id: '2d', title: `Server CPU per request ÷ a bare node:http cluster's, ${abTool}`, goal: { op: '<=', value: 1.1 }, goalText: '≤ 1.10×', unit: '×', digits: 2 },
    ];
    const noWrk = ctx.missingTools(['wrk']);
    const noAb = ctx.missingTools(['ab']);
    if (noWrk && noAb) return specs.map((spec) => skipped(spec, noWrk));
    const env = { WORKERS: String(ctx.settings.workers), PORT: '0' };
    const ours = await ctx.serve();
    const seed: Other = { short: 'seed', long: "the seed's Express 5 cluster", server: await ctx.server('seed Express cluster', () => spawnServer(SEED, [], { env, readyTimeoutMs: 30_000 })) };
    const bare: Other = { short: 'bare', long: 'a bare node:http cluster', server: await ctx.server('bare node:http cluster', () => spawnServer(BARE, [], { env, readyTimeoutMs: 30_000 })) };
    const timeoutMs = 60_000;
    const wrk = (url: string) => runWrk(url, { threads: 1, connections: 50, durationS: wrkSeconds, timeoutMs });
    const ab = (url: string) => runAb(url, { concurrency: 50, requests: abRequests, timeoutMs });
    ctx.log('  warm-up');
    for (const s of [ours, seed.server, bare.server]) {
      if (!noWrk) await runWrk(`${s.url}/pid`, { threads: 1, connections: 50, durationS: 1, timeoutMs });
      if (!noAb) await runAb(`${s.url}/pid`, { concurrency: 50, requests: 2000, timeoutMs });
    }
    const [wrkSeed, abSeed, wrkBare, abBare] = specs as [RowSpec, RowSpec, RowSpec, RowSpec];
    return [
      noWrk ? skipped(wrkSeed, noWrk) : await compareServers(ctx, wrkSeed, ours, seed, 'wrk keep-alive', wrk, 'rps'),
      noAb ? skipped(abSeed, noAb) : await compareServers(ctx, abSeed, ours, seed, 'ab close', ab, 'rps'),
      noWrk ? skipped(wrkBare, noWrk) : await compareServers(ctx, wrkBare, ours, bare, 'wrk keep-alive', wrk, 'cpu'),
      noAb ? skipped(abBare, noAb) : await compareServers(ctx, abBare, ours, bare, 'ab close', ab, 'cpu'),
    ];
  },
};
