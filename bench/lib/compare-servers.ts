/**
 * Two servers under one load tool, alternated (A/B flipped per pair), each pair with the servers' CPU from
 * /proc: rows 2 (ours against the seed and a bare cluster), 9 (a user's app under `serve --app` against the
 * same app under a bare node:cluster primary) and 10 (a policy against rr). The figure is req/s ours ÷ other (a
 * speed-up or a keep-up), or the server's CPU per request ours ÷ other (an overhead); pairs are added while the
 * goal is undecided.
 *
 * A row passes either one server per side, shared by every pair, or `{ fresh }` starters: two fresh servers per
 * pair (servers.ts), which a connection per request needs (TIME_WAIT) and a row whose effect is smaller than one
 * server process's own speed does too (row 9).
 */
import { decides, measured, medianOf, pairStats, r0, r2, ratioWithInterval, usPerRequest, withServerCpu, type BenchContext, type RowResult, type RowSpec } from './bench.js';
import { withServers, type Contender } from './servers.js';
import type { ToolResult } from './tools.js';

type Side = 'ours' | 'other';

export interface Other {
  /** In the group's title: "seed", "bare". */
  short: string;
  /** In the row's detail: "the seed's Express 5 cluster". */
  long: string;
  server: Contender;
}

export interface Where {
  group: string;
  path: string;
  ours: string;
  /** Fresh servers: what each runs on `path` before it is measured (e.g. a short run of the same tool). */
  warm?: (url: string) => Promise<unknown>;
  /** Workers of each server, when not the bench's (row 9a: one, pinned). */
  workers?: number;
  /** Runs of the tool per side in a pair (default 1); a side's figure is over its runs (overRuns). */
  runs?: number;
  /**
   * Both sides' runs at the same moment (two load tools at once), instead of in turn: with both servers pinned to
   * one core (row 9a), the scheduler gives each half of it, so their req/s ratio is the ratio of their CPU per
   * request, and the host's drift, which moves a server by ±20% over seconds, meets both alike (NOTES, row 9).
   */
  together?: boolean;
}

type Measured = ToolResult & { serverCpuS: number | undefined };
type Pair = { order: Side[] } & Record<Side, Measured>;

/** One side's runs as one: requests, errors and CPU summed, req/s the mean of equal-length runs. */
function overRuns(runs: Measured[]): Measured {
  const cpu = runs.map((r) => r.serverCpuS);
  return {
    rps: runs.reduce((sum, r) => sum + r.rps, 0) / runs.length,
    completed: runs.reduce((sum, r) => sum + r.completed, 0),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    serverCpuS: cpu.includes(undefined) ? undefined : (cpu as number[]).reduce((sum, c) => sum + c, 0),
  };
}

/**
 * The figure of a row: req/s ours ÷ other (a speed-up: rows 2a, 2b), or the server's CPU per request ours ÷
 * other (an overhead: rows 2c, 2d), per pair.
 */
export type Figure = 'rps' | 'cpu';
const cpuPerRequest = (x: Pair[Side]) => usPerRequest(x.serverCpuS, x.completed) ?? NaN;
const figureOf = (figure: Figure, g: Pair) => (figure === 'rps' ? g.ours.rps / g.other.rps : cpuPerRequest(g.ours) / cpuPerRequest(g.other));

/** Both servers under `tool`, alternated; the row from the kept pairs, pairs added while its goal is undecided. */
export async function compareServers(ctx: BenchContext, spec: RowSpec, ours: Contender, other: Other, name: string, tool: (url: string) => Promise<ToolResult>, figure: Figure, where: Where = { group: '2. Server', path: '/pid', ours: 'cluster-demo serve' }): Promise<RowResult> {
  const contenders: Record<Side, Contender> = { ours, other: other.server };
  const fresh = 'fresh' in ours || 'fresh' in other.server;
  const { kept, discarded, added } = await ctx.alternate(
    `${where.group}, ${name} (req/s, ours / ${other.short}; server CPU per request${fresh ? '; fresh servers per pair' : ''})`,
    `${name} pair vs ${other.short}`,
    ctx.pick(6, 3),
    (flip, later) =>
      withServers(ctx, contenders, async (s) => where.warm?.(`${s.url}${where.path}`), later, async (servers): Promise<Pair> => {
        const order: Side[] = flip ? ['other', 'ours'] : ['ours', 'other'];
        const runs: Record<Side, Measured[]> = { ours: [], other: [] };
        const run = (side: Side) => withServerCpu(servers[side], () => tool(`${servers[side].url}${where.path}`));
        for (let i = 0; i < (where.runs ?? 1); i++) {
          if (where.together) {
            const [first, second] = await Promise.all(order.map(run));
            runs[order[0]!].push(first!);
            runs[order[1]!].push(second!);
          } else {
            for (const side of order) runs[side].push(await run(side));
          }
        }
        return { order, ours: overRuns(runs.ours), other: overRuns(runs.other) };
      }),
    (g) => `${g.order.map((side) => (side === 'ours' ? 'ours' : other.short)).join(where.together ? ' + ' : ' → ')}: ${r0(g.ours.rps)} / ${r0(g.other.rps)} → ${r2(g.ours.rps / g.other.rps)}×; CPU/req ${r0(cpuPerRequest(g.ours))} / ${r0(cpuPerRequest(g.other))} µs → ${r2(cpuPerRequest(g.ours) / cpuPerRequest(g.other))}×`,
    (pairs) => decides(spec.goal, pairs.map((g) => figureOf(figure, g))),
  );
  const side = (s: Side) => kept.map((g) => g[s]);
  const cpu = (s: Side) => r0(medianOf(side(s), cpuPerRequest));
  const errors = (s: Side) => side(s).reduce((sum, x) => sum + x.errors, 0);
  const rpsRatios = kept.map((g) => figureOf('rps', g));
  const cpuRatios = kept.map((g) => figureOf('cpu', g));
  const workers = where.workers ?? ctx.settings.workers;
  const stats = pairStats(figure === 'rps' ? rpsRatios : cpuRatios, figure === 'rps' ? 'ratios (req/s)' : 'ratios (server CPU per request, primary + workers)', discarded, added);
  const beside = figure === 'rps'
    ? `server CPU per request ours ÷ ${other.short}: ${ratioWithInterval(cpuRatios)}`
    : `req/s ours ÷ ${other.short}: ${ratioWithInterval(rpsRatios)}`;
  return measured(
    spec,
    stats,
    `${where.ours} ${r0(medianOf(side('ours'), (x) => x.rps))} req/s vs ${other.long} ${r0(medianOf(side('other'), (x) => x.rps))} req/s (medians), ${workers} worker${workers === 1 ? '' : 's'} each; server CPU per request (primary + workers, /proc): ours ${cpu('ours')} µs, ${other.short} ${cpu('other')} µs; beside the figure, ${beside}; errors: ours ${errors('ours')}, ${other.short} ${errors('other')}.`,
  );
}

