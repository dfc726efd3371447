/**
 * Row 1: our load engine against hey and ab, a new connection per request, GET /pid on `cluster-demo serve`:
 * engine → hey → ab → net one round, the reverse the next. The generator's and the server's CPU per request
 * are recorded beside the req/s.
 */
import { reapedChildrenCpuSeconds } from '../lib/background.js';
import { decides, measured, medianOf, r0, r2, ratioStats, skipped, usPerRequest, withServerCpu, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';
import { engineRun } from '../lib/engine-run.js';
import { runAb, runHey, type ToolResult } from '../lib/tools.js';

type Contender = 'engine' | 'hey' | 'ab' | 'net';
interface Measured {
  rps: number;
  completed: number;
  errors: number;
  clientCpuS: number | undefined;
  serverCpuS: number | undefined;
}

/** An external tool's run, with its CPU (reaped by this process) as the generator's. */
async function toolRun(fn: () => Promise<ToolResult>): Promise<ToolResult & { clientCpuS: number | undefined }> {
  const before = reapedChildrenCpuSeconds();
  const result = await fn();
  const after = reapedChildrenCpuSeconds();
  return { ...result, clientCpuS: before === null || after === null ? undefined : after - before };
}

export const engineRow: RowPlan = {
  key: '1',
  name: '1. Load engine',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const requests = ctx.pick(12_000, 3000);
    const concurrency = 50;
    const specs = {
      hey: { id: '1a', title: `Load engine vs \`hey -disable-keepalive\` (c=${concurrency}, /pid, ${requests / 1000}k req/run)`, goal: { op: '>=', value: 1.0 }, goalText: '≥ 1.00×', unit: '×', digits: 2 },
      ab: { id: '1b', title: `Load engine vs \`ab\` (c=${concurrency}, /pid, ${requests / 1000}k req/run)`, goal: { op: '>=', value: 0.8 }, goalText: '≥ 0.80×', unit: '×', digits: 2 },
      net: { id: '1c', title: "(info) the engine's `net` transport vs `ab`", goal: null, goalText: 'none (info)', unit: '×', digits: 2 },
      cpu: { id: '1d', title: "Generator CPU per request: the engine's ÷ ab's (same pairs as 1b)", goal: { op: '<=', value: 1.25 }, goalText: '≤ 1.25×', unit: '×', digits: 2 },
    } as const;
    const noHey = ctx.missingTools(['hey']);
    const noAb = ctx.missingTools(['ab']);
    if (noHey && noAb) return [skipped(specs.hey, noHey), skipped(specs.ab, noAb), skipped(specs.net, noAb), skipped(specs.cpu, noAb)];
    const server = await ctx.serve();
    const url = `${server.url}/pid`;
    const limitMs = 120_000;
    const contenders: Record<Contender, () => Promise<Measured>> = {
      engine: () => withServerCpu(server, () => engineRun(server.url, { path: '/pid', concurrency, requests, keepAlive: false, transport: 'raw', limitMs })),
      net: () => withServerCpu(server, () => engineRun(server.url, { path: '/pid', concurrency, requests, keepAlive: false, transport: 'net', limitMs })),
      hey: () => withServerCpu(server, () => toolRun(() => runHey(url, { concurrency, requests, timeoutMs: limitMs }))),
      ab: () => withServerCpu(server, () => toolRun(() => runAb(url, { concurrency, requests, timeoutMs: limitMs }))),
    };
    const order = (['engine', 'hey', 'ab', 'net'] as const).filter((k) => (k === 'hey' ? !noHey : k === 'engine' || !noAb));
    ctx.log('  warm-up');
    for (const name of order) await contenders[name]();
    const cpu = (m: Measured) => ` (CPU/req: client ${r0(usPerRequest(m.clientCpuS, m.completed))} µs, server ${r0(usPerRequest(m.serverCpuS, m.completed))} µs)`;
    const clientCpu = (m: Measured) => usPerRequest(m.clientCpuS, m.completed) ?? NaN;
    // The goal rows' per-round values: the bench adds rounds while any of their intervals straddles its goal.
    const goalValues = (rounds: ReadonlyArray<Record<Contender, Measured>>): Array<[RowSpec, number[]]> => [
      ...(noHey ? [] : [[specs.hey, rounds.map((g) => g.engine.rps / g.hey.rps)] as [RowSpec, number[]]]),
      ...(noAb ? [] : [[specs.ab, rounds.map((g) => g.engine.rps / g.ab.rps)] as [RowSpec, number[]], [specs.cpu, rounds.map((g) => clientCpu(g.engine) / clientCpu(g.ab))] as [RowSpec, number[]]]),
    ];
    const { kept, discarded, added } = await ctx.alternate(
      '1. Load engine (req/s; CPU per request of the generator and of the server: primary + workers)',
      'round',
      ctx.pick(7, 3),
      async (flip) => {
        const got: Partial<Record<Contender, Measured>> & { order: Contender[] } = { order: flip ? [...order].reverse() : [...order] };
        for (const name of got.order) got[name] = await contenders[name]();
        return got as Record<Contender, Measured> & { order: Contender[] };
      },
      (g) => `${g.order.join(' → ')}: ${g.order.map((n) => `${n} ${r0(g[n].rps)}${cpu(g[n])}`).join('; ')}`,
      (rounds) => goalValues(rounds).every(([spec, values]) => decides(spec.goal, values)),
    );
    const all = (name: Contender) => kept.map((g) => g[name]);
    const rps = (name: Contender) => r0(medianOf(all(name), (m) => m.rps));
    const cpuLine = (name: Contender) =>
      `${r0(medianOf(all(name), (m) => usPerRequest(m.clientCpuS, m.completed)))} µs of generator CPU and ${r0(medianOf(all(name), (m) => usPerRequest(m.serverCpuS, m.completed)))} µs of server CPU per request`;
    const errors = (name: Contender) => all(name).reduce((s, m) => s + m.errors, 0);
    const ratio = (a: Contender, b: Contender) => ratioStats(kept.map((g) => [g[a].rps, g[b].rps] as const), discarded, 'ratios (req/s)', added);
    const cpuRatio = ratioStats(kept.map((g) => [clientCpu(g.engine), clientCpu(g.ab)] as const), discarded, 'ratios (generator CPU per request)', added);
    return [
      noHey ? skipped(specs.hey, noHey) : measured(specs.hey, ratio('engine', 'hey'), `the engine (\`runLoad\`, its 'raw' transport) ${rps('engine')} req/s vs hey ${rps('hey')} req/s (medians); errors: engine ${errors('engine')}, hey ${errors('hey')}. Engine: ${cpuLine('engine')}; hey: ${cpuLine('hey')}.`),
      noAb ? skipped(specs.ab, noAb) : measured(specs.ab, ratio('engine', 'ab'), `engine ${rps('engine')} req/s vs ab ${rps('ab')} req/s (medians); errors: ab ${errors('ab')}. ab: ${cpuLine('ab')}.`),
      noAb ? skipped(specs.net, noAb) : measured(specs.net, ratio('net', 'ab'), `the engine on \`net.Socket\` (its fallback where libuv's TCP handle is not reachable): ${rps('net')} req/s vs ab ${rps('ab')} req/s; errors ${errors('net')}; ${cpuLine('net')}. Ratio ${r2(ratio('net', 'ab').median)}.`),
      noAb
        ? skipped(specs.cpu, noAb)
        : measured(specs.cpu, cpuRatio, `generator CPU per request (user + system, from /proc): the engine ${r0(medianOf(all('engine'), clientCpu))} µs (this whole process: the engine and the bench around it), ab ${r0(medianOf(all('ab'), clientCpu))} µs (its process, reaped); where the engine's time goes: NOTES.md, "Generator CPU".`),
    ];
  },
};
