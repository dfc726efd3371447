/**
 * Row 2: `cluster-demo serve` against the seed's Express 5 cluster (test/fixtures/seed-cluster.mjs; 2a, 2b) and
 * against a bare node:http cluster (bench/fixtures/bare-cluster.mjs; 2c, 2d: our own stack's cost over Node's
 * floor), 2 workers each, GET /pid: wrk with keep-alive connections, ab with a new connection per request. A/B
 * flipped per pair. 2a and 2b are speed-ups (req/s); 2c and 2d are overheads, judged on the server's CPU per
 * request (primary and workers, from /proc), with req/s beside.
 */
import { fileURLToPath } from 'node:url';
import { spawnServer } from '../../src/cluster/spawn.js';
import { skipped, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';
import { compareServers, type Other } from '../lib/compare-servers.js';
import { runAb, runWrk } from '../lib/tools.js';

const SEED = fileURLToPath(new URL('../../test/fixtures/seed-cluster.mjs', import.meta.url));
const BARE = fileURLToPath(new URL('../fixtures/bare-cluster.mjs', import.meta.url));

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
