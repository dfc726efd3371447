/**
 * Row 9: a user's app hosted by `cluster-demo serve --app` (its agent preloaded: identity headers and counts
 * through node:diagnostics_channel, the stats port) against the same app under a bare node:cluster primary
 * (bench/fixtures/bare-app-primary.mjs), 2 workers each (9a: one), GET /users/1 of the Express 4 fixture
 * (test/fixtures/apps/express4.cjs): wrk with keep-alive connections (9a), ab with a new connection per request
 * (9b). The figure is req/s ours ÷ bare (hosting must keep up: ≥ 0.95), the server's CPU per request beside it.
 * Every pair runs on two fresh servers: with ab for TIME_WAIT (bench/lib/servers.ts), with wrk because one server
 * process keeps a speed of its own (identical bare servers, side by side, differ by up to ±7% for as long as they
 * run; NOTES, row 9), so one pair of servers for the whole row would narrow the interval around their own
 * difference. 9a runs one worker per server, both servers pinned to core 0 and their two wrk on core 1
 * (bench/lib/pinning.ts): each server CPU-bound, as in production, and the scheduler's placement out of the figure.
 * Both are loaded at the same moment (compare-servers.ts, `together`): the scheduler gives each half of the core,
 * so req/s ours ÷ bare is bare's CPU per request ÷ ours, and the host's drift (±20% over seconds) meets both alike.
 * Measured so, two bare servers read 0.97–1.06× per run; in turn and unpinned, 0.90–1.10× per pair (NOTES, row 9).
 */
import { fileURLToPath } from 'node:url';
import { spawnServe, spawnServer } from '../../src/cluster/spawn.js';
import { skipped, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';
import { compareServers, type Other } from '../lib/compare-servers.js';
import { cannotPin, pinned, TOOL_CPU } from '../lib/pinning.js';
import { runAb, runWrk } from '../lib/tools.js';

const APP = fileURLToPath(new URL('../../test/fixtures/apps/express4.cjs', import.meta.url));
const BARE = fileURLToPath(new URL('../fixtures/bare-app-primary.mjs', import.meta.url));
const PATH = '/users/1';

export const appRow: RowPlan = {
  key: '9',
  name: "9. A user's app under serve --app vs a bare node:cluster primary",
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const wrkSeconds = 2;
    const wrkRuns = ctx.pick(3, 1);
    const abRequests = ctx.pick(10_000, 3000);
    const wrkTool = `\`wrk -t1 -c50 -d${wrkSeconds}s\` × ${wrkRuns}, both sides at once (keep-alive, Express 4 ${PATH}; fresh servers per pair, one worker each, both on core 0, the two wrk on core 1)`;
    const abTool = `\`ab -c 50 -n ${abRequests}\` (new connection per request, Express 4 ${PATH}; fresh servers per pair)`;
    const specs: RowSpec[] = [
      { id: '9a', title: `App under serve --app ÷ the same app under a bare node:cluster primary, ${wrkTool}`, goal: { op: '>=', value: 0.95 }, goalText: '≥ 0.95×', unit: '×', digits: 2 },
      { id: '9b', title: `App under serve --app ÷ the same app under a bare node:cluster primary, ${abTool}`, goal: { op: '>=', value: 0.95 }, goalText: '≥ 0.95×', unit: '×', digits: 2 },
    ];
    const noPin = cannotPin();
    if (noPin) ctx.log(`  skipping 9a: ${noPin}`);
    const noWrk = ctx.missingTools(['wrk']) ?? noPin;
    const noAb = ctx.missingTools(['ab']);
    const startOurs = (workers: number) => () => spawnServe(['--app', APP, '--workers', String(workers)], { env: { PORT: '0' }, readyTimeoutMs: 30_000 });
    const startBare = (workers: number) => () => spawnServer(BARE, [], { env: { WORKERS: String(workers), PORT: '0', APP }, readyTimeoutMs: 30_000 });
    const timeoutMs = 60_000;
    const wrkFor = (durationS: number) => (url: string) => runWrk(url, { threads: 1, connections: 50, durationS, timeoutMs, cpu: TOOL_CPU });
    const abFor = (requests: number) => (url: string) => runAb(url, { concurrency: 50, requests, timeoutMs });
    // Every pair on two fresh servers (the header), each warmed up with a run of the same load: with wrk 5 s, as a
    // fresh worker of this app takes 4–5 s of it to reach its speed on Node 26 (1 s runs: ~20k req/s, then ~45k).
    const bare = (fresh: Other['server']): Other => ({ short: 'bare', long: 'the same app under a bare node:cluster primary', server: fresh });
    const where = (warm: (url: string) => Promise<unknown>, workers: number) => ({ group: '9. App', path: PATH, ours: 'serve --app', warm, workers });
    const { workers } = ctx.settings;
    const [wrkSpec, abSpec] = specs as [RowSpec, RowSpec];
    const rows: RowResult[] = [];
    if (noWrk) rows.push(skipped(wrkSpec, noWrk));
    else rows.push(await compareServers(ctx, wrkSpec, { fresh: pinned(startOurs(1)) }, bare({ fresh: pinned(startBare(1)) }), 'wrk keep-alive', wrkFor(wrkSeconds), 'rps', { ...where(wrkFor(ctx.pick(5, 2)), 1), runs: wrkRuns, together: true }));
    if (noAb) rows.push(skipped(abSpec, noAb));
    else rows.push(await compareServers(ctx, abSpec, { fresh: startOurs(workers) }, bare({ fresh: startBare(workers) }), 'ab close', abFor(abRequests), 'rps', where(abFor(3000), workers)));
    return rows;
  },
};
