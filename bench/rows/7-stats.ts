/**
 * Row 7: what the per-worker counts cost the server: `serve --stats` against `serve --no-stats`, GET /pid, wrk
 * with keep-alive and ab with a new connection per request, alternated pairs, judged on the server's CPU per
 * request (req/s beside); what the stats tick costs an idle cluster (its primary and its workers, CPU per second,
 * side by side); and (7d) what counting one request costs, in-process, where 1 µs can be resolved.
 *
 * A connection per request leaves TIME_WAIT on the server's side (the server closes first), and a later run
 * against the same port whose client ports come round again meets those entries: measured here, that alone
 * moved one of two identical servers by 25% depending on the order of their runs. So each ab pair gets two
 * fresh servers (new ports, the same warm-up each), and the CPU both spent per request is recorded beside.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnServe, type SpawnedServer } from '../../src/cluster/spawn.js';
import { processCpuSeconds, treeCpuSeconds } from '../lib/background.js';
import { decides, measured, medianOf, pairStats, r0, r2, ratioStats, ratioWithInterval, skipped, usPerRequest, withServerCpu, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';
import { counted, countingSides, nsPerCall } from '../lib/counting.js';
import { withServers } from '../lib/servers.js';
import { runAb, runWrk, type ToolResult } from '../lib/tools.js';

type Side = 'on' | 'off';
const FLAGS: Record<Side, string> = { on: '--stats', off: '--no-stats' };
type Measured = ToolResult & { serverCpuS: number | undefined };

const cpuOf = (m: Measured) => usPerRequest(m.serverCpuS, m.completed) ?? NaN;
/** The figure of 7a and 7b: the server's CPU per request (primary + workers) with stats on ÷ off, per pair. */
const cpuRatio = (g: Record<Side, Measured>) => cpuOf(g.on) / cpuOf(g.off);

function pairRow(ctx: BenchContext, spec: RowSpec, kept: Array<Record<Side, Measured>>, discarded: number, added: number): RowResult {
  const cpu = (s: Side) => r0(medianOf(kept, (g) => cpuOf(g[s])));
  const errors = kept.reduce((sum, g) => sum + g.on.errors + g.off.errors, 0);
  const diff = pairStats(kept.map((g) => cpuOf(g.on) - cpuOf(g.off)), 'differences (µs)');
  const diffInterval = diff.interval ? `, 95% interval ${diff.interval.low.toFixed(1)} to ${diff.interval.high.toFixed(1)} µs` : '';
  return measured(
    spec,
    ratioStats(kept.map((g) => [cpuOf(g.on), cpuOf(g.off)] as const), discarded, 'ratios (server CPU per request, primary + workers)', added),
    `server CPU per request (primary + workers, /proc) ${cpu('on')} µs with stats on vs ${cpu('off')} µs with --no-stats (medians); the per-pair difference ${diff.median.toFixed(1)} µs${diffInterval} (what one request's counting costs is row 7d: far below what these pairs can resolve); req/s on ÷ off ${ratioWithInterval(kept.map((g) => g.on.rps / g.off.rps))}; errors ${errors}.`,
  );
}

const describe = (g: { order: Side[] } & Record<Side, Measured>) => `${g.order.join(' → ')}: ${r0(g.on.rps)} / ${r0(g.off.rps)} → ${r2(g.on.rps / g.off.rps)}×; CPU/req ${r0(usPerRequest(g.on.serverCpuS, g.on.completed))} / ${r0(usPerRequest(g.off.serverCpuS, g.off.completed))} µs`;

/** Keep-alive: the same two servers throughout (50 connections, no TIME_WAIT to speak of). */
async function keepAlive(ctx: BenchContext, spec: RowSpec, seconds: number): Promise<RowResult> {
  const servers = { on: await ctx.serve([FLAGS.on]), off: await ctx.serve([FLAGS.off]) };
  const wrk = (s: SpawnedServer) => withServerCpu(s, () => runWrk(`${s.url}/pid`, { threads: 1, connections: 50, durationS: seconds, timeoutMs: 60_000 }));
  for (const s of Object.values(servers)) await wrk(s);
  const { kept, discarded, added } = await ctx.alternate('7. Stats, wrk keep-alive (req/s, stats on / off)', 'wrk pair', ctx.pick(11, 3), async (flip) => {
    const order: Side[] = flip ? ['off', 'on'] : ['on', 'off'];
    const got = {} as Record<Side, Measured>;
    for (const side of order) got[side] = await wrk(servers[side]);
    return { order, ...got };
  }, describe, (pairs) => decides(spec.goal, pairs.map(cpuRatio)));
  return pairRow(ctx, spec, kept, discarded, added);
}

/** A connection per request: two fresh servers per pair, each warmed up alike, stopped after. */
async function close(ctx: BenchContext, spec: RowSpec, requests: number): Promise<RowResult> {
  const ab = (s: SpawnedServer, n: number) => withServerCpu(s, () => runAb(`${s.url}/pid`, { concurrency: 50, requests: n, timeoutMs: 60_000 }));
  const start = (side: Side) => ({ fresh: () => spawnServe(['--port', '0', '--workers', '2', FLAGS[side]]) });
  const { kept, discarded, added } = await ctx.alternate(
    '7. Stats, ab close (req/s, stats on / off; fresh servers per pair)',
    'ab pair',
    ctx.pick(9, 3),
    (flip, later) =>
      withServers(ctx, { on: start('on'), off: start('off') }, (s) => ab(s, 3000), later, async (servers) => {
        const order: Side[] = flip ? ['off', 'on'] : ['on', 'off'];
        const got = {} as Record<Side, Measured>;
        for (const side of order) got[side] = await ab(servers[side], requests);
        return { order, ...got };
      }),
    describe,
    (pairs) => decides(spec.goal, pairs.map(cpuRatio)),
  );
  return pairRow(ctx, spec, kept, discarded, added);
}

/** CPU per second of an idle cluster: its primary alone, and its workers. */
async function idleCpu(server: SpawnedServer, seconds: number): Promise<{ primaryUsPerS: number; workersUsPerS: number }> {
  const p0 = processCpuSeconds(server.pid) ?? 0;
  const t0 = treeCpuSeconds(server.pid) ?? 0;
  await sleep(seconds * 1000);
  const p1 = processCpuSeconds(server.pid) ?? 0;
  const t1 = treeCpuSeconds(server.pid) ?? 0;
  return { primaryUsPerS: ((p1 - p0) * 1e6) / seconds, workersUsPerS: ((t1 - t0 - (p1 - p0)) * 1e6) / seconds };
}

async function idle(ctx: BenchContext, spec: RowSpec): Promise<RowResult> {
  const servers = { on: await ctx.serve([FLAGS.on]), off: await ctx.serve([FLAGS.off]) };
  const seconds = ctx.pick(30, 5);
  ctx.log(`  idle for ${seconds} s, both clusters at once`);
  const [on, off] = await Promise.all([idleCpu(servers.on, seconds), idleCpu(servers.off, seconds)]);
  ctx.group('7. Stats, idle (CPU per second)').push(`stats on: primary ${r0(on.primaryUsPerS)} µs/s, workers ${r0(on.workersUsPerS)} µs/s; --no-stats: primary ${r0(off.primaryUsPerS)} µs/s, workers ${r0(off.workersUsPerS)} µs/s`);
  return measured(spec, { median: on.primaryUsPerS, range: null, pairs: `${seconds} s`, statistic: `CPU over one window of ${seconds} s (no pairs)` }, `over ${seconds} s of no traffic: the primary used ${r0(on.primaryUsPerS)} µs of CPU per second with stats on and ${r0(off.primaryUsPerS)} µs/s with --no-stats; the workers ${r0(on.workersUsPerS)} vs ${r0(off.workersUsPerS)} µs/s (a worker's tick is armed by activity: an idle worker has no timer at all). /proc counts in ticks of 10,000 µs, so these are a few ticks over the whole window.`);
}

/** 7d: what counting adds to one request, in this process (bench/lib/counting.ts), ns per request: on − off per pair. */
async function countingCost(ctx: BenchContext, spec: RowSpec): Promise<RowResult> {
  const sides = countingSides();
  const calls = ctx.pick(200_000, 50_000);
  try {
    // Both paths reach optimized code before anything is timed.
    for (let i = 0; i < 3; i++) {
      nsPerCall(sides.on, calls);
      nsPerCall(sides.off, calls);
    }
    const group = `7d. Counting, in-process (ns per request, stats on / off; ${calls.toLocaleString('en-US')} calls per side)`;
    const { kept, discarded, added } = await ctx.alternate(
      group,
      'pair',
      ctx.pick(11, 3),
      async (flip) => {
        const order: Side[] = flip ? ['off', 'on'] : ['on', 'off'];
        const got = {} as Record<Side, number>;
        for (const side of order) got[side] = nsPerCall(sides[side], calls);
        return { order, ...got };
      },
      (g) => `${g.order.join(' → ')}: ${g.on.toFixed(0)} / ${g.off.toFixed(0)} ns → +${(g.on - g.off).toFixed(0)} ns`,
      (pairs) => decides(spec.goal, pairs.map((g) => g.on - g.off)),
    );
    const reportUs = nsPerCall(sides.report, ctx.pick(20_000, 2000)) / 1000;
    ctx.group(group).push(`one report (the 250 ms tick's document, without its IPC send): ${reportUs.toFixed(2)} µs; the responses' bytes, kept so the calls are not optimized away: ${counted()}`);
    return measured(
      spec,
      pairStats(kept.map((g) => g.on - g.off), 'differences (ns per request, on − off)', discarded, added),
      `the worker's request handler on GET /pid, called ${calls.toLocaleString('en-US')} times in a row per side: ${medianOf(kept, (g) => g.on)!.toFixed(0)} ns per request with counting (the counter, the stats routes' check, the connection's touch) vs ${medianOf(kept, (g) => g.off)!.toFixed(0)} ns without (medians). Apart from requests, an active worker builds one report every 250 ms: ${reportUs.toFixed(2)} µs each (plus its IPC send), about ${(reportUs * 4).toFixed(0)} µs of CPU per second, whatever the rate. Profile: NOTES.md, "Row 7d".`,
    );
  } finally {
    sides.stop();
  }
}

export const statsRow: RowPlan = {
  key: '7',
  name: '7. Stats on vs off',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const wrkSeconds = ctx.pick(3, 1);
    const abRequests = ctx.pick(20_000, 3000);
    const wrkSpec: RowSpec = { id: '7a', title: `Server CPU per request, stats on ÷ --no-stats, \`wrk -t1 -c50 -d${wrkSeconds}s\` (keep-alive, /pid)`, goal: { op: '<=', value: 1.03 }, goalText: '≤ 1.03×', unit: '×', digits: 3 };
    const abSpec: RowSpec = { id: '7b', title: `Server CPU per request, stats on ÷ --no-stats, \`ab -c 50 -n ${abRequests}\` (new connection per request, /pid; fresh servers per pair)`, goal: { op: '<=', value: 1.03 }, goalText: '≤ 1.03×', unit: '×', digits: 3 };
    const countingSpec: RowSpec = { id: '7d', title: 'Counting one request, in-process: the worker\'s handler with stats on − off, ns per request', goal: { op: '<=', value: 1000 }, goalText: '≤ 1000 ns', unit: ' ns', digits: 0 };
    const idleSpec: RowSpec = { id: '7c', title: "Idle cluster: the primary's CPU with stats on, µs per second (--no-stats beside it)", goal: null, goalText: 'none (info)', unit: ' µs/s', digits: 0 };
    const idleRow = await idle(ctx, idleSpec);
    const noWrk = ctx.missingTools(['wrk']);
    const noAb = ctx.missingTools(['ab']);
    const countingRow = await countingCost(ctx, countingSpec);
    return [noWrk ? skipped(wrkSpec, noWrk) : await keepAlive(ctx, wrkSpec, wrkSeconds), noAb ? skipped(abSpec, noAb) : await close(ctx, abSpec, abRequests), idleRow, countingRow];
  },
};
