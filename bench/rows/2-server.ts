/**
 * Row 2: `cluster-demo serve` against the seed's Express 5 cluster (test/fixtures/seed-cluster.mjs; 2a, 2b) and
 * against a bare node:http cluster (bench/fixtures/bare-cluster.mjs; 2c, 2d: our own stack's cost over Node's
 * floor), 2 workers each, GET /pid: wrk with keep-alive connections, ab with a new connection per request. A/B
 * flipped per pair. 2a and 2b are speed-ups (req/s); 2c and 2d are overheads, judged on the server's CPU per
 * request (primary and workers, from /proc), with req/s beside. The ab pairs run on fresh servers each
 * (bench/lib/servers.ts: TIME_WAIT).
 */
import { fileURLToPath } from 'node:url';
import { spawnServe, spawnServer } from '../../src/cluster/spawn.js';
import { skipped, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';
import { compareServers } from '../lib/compare-servers.js';
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
    const abTool = `\`ab -c 50 -n ${abRequests}\` (new connection per request, /pid; fresh servers per pair)`;
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
    const startOurs = () => spawnServe(['--port', '0', '--workers', String(ctx.settings.workers)], { readyTimeoutMs: 30_000 });
    const startSeed = () => spawnServer(SEED, [], { env, readyTimeoutMs: 30_000 });
    const startBare = () => spawnServer(BARE, [], { env, readyTimeoutMs: 30_000 });
    const names = { seed: { short: 'seed', long: "the seed's Express 5 cluster" }, bare: { short: 'bare', long: 'a bare node:http cluster' } };
    const timeoutMs = 60_000;
    const wrk = (url: string) => runWrk(url, { threads: 1, connections: 50, durationS: wrkSeconds, timeoutMs });
    const ab = (url: string) => runAb(url, { concurrency: 50, requests: abRequests, timeoutMs });
    const [wrkSeed, abSeed, wrkBare, abBare] = specs as [RowSpec, RowSpec, RowSpec, RowSpec];
    const rows: RowResult[] = [];
    if (noWrk) rows.push(skipped(wrkSeed, noWrk), skipped(wrkBare, noWrk));
    else {
      // Keep-alive: the same servers for every pair, warmed up once.
      const ours = await ctx.serve();
      const seed = await ctx.server('seed Express cluster', startSeed);
      const bare = await ctx.server('bare node:http cluster', startBare);
      ctx.log('  warm-up');
      for (const s of [ours, seed, bare]) await runWrk(`${s.url}/pid`, { threads: 1, connections: 50, durationS: 1, timeoutMs });
      rows.push(await compareServers(ctx, wrkSeed, ours, { ...names.seed, server: seed }, 'wrk keep-alive', wrk, 'rps'));
      rows.push(await compareServers(ctx, wrkBare, ours, { ...names.bare, server: bare }, 'wrk keep-alive', wrk, 'cpu'));
    }
    if (noAb) rows.push(skipped(abSeed, noAb), skipped(abBare, noAb));
    else {
      // A connection per request: two fresh servers per pair (TIME_WAIT: bench/lib/servers.ts), each warmed up alike.
      const where = { group: '2. Server', path: '/pid', ours: 'cluster-demo serve', warm: (url: string) => runAb(url, { concurrency: 50, requests: 3000, timeoutMs }) };
      rows.push(await compareServers(ctx, abSeed, { fresh: startOurs }, { ...names.seed, server: { fresh: startSeed } }, 'ab close', ab, 'rps', where));
      rows.push(await compareServers(ctx, abBare, { fresh: startOurs }, { ...names.bare, server: { fresh: startBare } }, 'ab close', ab, 'cpu', where));
    }
    return rows;
  },
};
