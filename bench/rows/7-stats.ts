/**
 * Row 7: what the per-worker counts cost the server: `serve` with stats on (the default) against `serve
 * --no-stats`, GET /pid, wrk with keep-alive and ab with a new connection per request, alternated pairs; and
 * what the stats tick costs an idle cluster (its primary and its workers, CPU per second, side by side).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SpawnedServer } from '../../src/server/spawn.js';
import { processCpuSeconds, treeCpuSeconds } from '../lib/background.js';
import { measured, medianOf, r0, r2, ratioStats, skipped, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';
import { runAb, runWrk, type ToolResult } from '../lib/tools.js';

type Side = 'on' | 'off';

async function onOverOff(ctx: BenchContext, spec: RowSpec, servers: Record<Side, SpawnedServer>, name: string, tool: (url: string) => Promise<ToolResult>): Promise<RowResult> {
  const { kept, discarded } = await ctx.alternate(
    `7. Stats, ${name} (req/s, stats on / off)`,
    `${name} pair`,
    ctx.pick(7, 3),
    async (flip) => {
      const order: Side[] = flip ? ['off', 'on'] : ['on', 'off'];
      const got = {} as Record<Side, ToolResult>;
      for (const side of order) got[side] = await tool(`${servers[side].url}/pid`);
      return { order, ...got };
    },
    (g) => `${g.order.join(' → ')}: ${r0(g.on.rps)} / ${r0(g.off.rps)} → ${r2(g.on.rps / g.off.rps)}×`,
  );
  const errors = kept.reduce((s, g) => s + g.on.errors + g.off.errors, 0);
  return measured(spec, ratioStats(kept.map((g) => [g.on.rps, g.off.rps] as const), discarded), `stats on ${r0(medianOf(kept, (g) => g.on.rps))} req/s vs --no-stats ${r0(medianOf(kept, (g) => g.off.rps))} req/s (medians); errors ${errors}.`);
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

export const statsRow: RowPlan = {
  key: '7',
  name: '7. Stats on vs off',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const wrkSeconds = ctx.pick(3, 1);
    const abRequests = ctx.pick(10_000, 3000);
    const wrkSpec: RowSpec = { id: '7a', title: `Stats on ÷ --no-stats, \`wrk -t1 -c50 -d${wrkSeconds}s\` (keep-alive, /pid)`, goal: { op: '>=', value: 0.97 }, goalText: '≥ 0.97×', unit: '×', digits: 3 };
    const abSpec: RowSpec = { id: '7b', title: `Stats on ÷ --no-stats, \`ab -c 50 -n ${abRequests}\` (new connection per request, /pid)`, goal: { op: '>=', value: 0.97 }, goalText: '≥ 0.97×', unit: '×', digits: 3 };
    const idleSpec: RowSpec = { id: '7c', title: 'Idle cluster: the primary\'s CPU with stats on, µs per second (the tick; --no-stats beside it)', goal: null, goalText: 'none (info)', unit: ' µs/s', digits: 0 };
    const servers = { on: await ctx.serve(), off: await ctx.serve(['--no-stats']) };
    const seconds = ctx.pick(20, 5);
    ctx.log(`  idle for ${seconds} s, both clusters at once`);
    const [on, off] = await Promise.all([idleCpu(servers.on, seconds), idleCpu(servers.off, seconds)]);
    ctx.group('7. Stats, idle (CPU per second)').push(`stats on: primary ${r0(on.primaryUsPerS)} µs/s, workers ${r0(on.workersUsPerS)} µs/s; --no-stats: primary ${r0(off.primaryUsPerS)} µs/s, workers ${r0(off.workersUsPerS)} µs/s`);
    const idle = measured(idleSpec, { median: on.primaryUsPerS, range: null, pairs: `${seconds} s` }, `over ${seconds} s of no traffic: the primary used ${r0(on.primaryUsPerS)} µs of CPU per second with stats on and ${r0(off.primaryUsPerS)} µs/s with --no-stats; the workers ${r0(on.workersUsPerS)} vs ${r0(off.workersUsPerS)} µs/s (a report per worker per second when idle). USER_HZ is 100: one tick is 10,000 µs.`);
    const noWrk = ctx.missingTools(['wrk']);
    const noAb = ctx.missingTools(['ab']);
    const timeoutMs = 60_000;
    ctx.log('  warm-up');
    for (const s of Object.values(servers)) if (!noAb) await runAb(`${s.url}/pid`, { concurrency: 50, requests: 2000, timeoutMs });
    return [
      noWrk ? skipped(wrkSpec, noWrk) : await onOverOff(ctx, wrkSpec, servers, 'wrk keep-alive', (url) => runWrk(url, { threads: 1, connections: 50, durationS: wrkSeconds, timeoutMs })),
      noAb ? skipped(abSpec, noAb) : await onOverOff(ctx, abSpec, servers, 'ab close', (url) => runAb(url, { concurrency: 50, requests: abRequests, timeoutMs })),
      idle,
    ];
  },
};
