/**
 * Row 8 (information): what HTTPS and HTTP/2 cost next to plain HTTP, on `serve`, `serve --tls` and `serve --h2`:
 * the server's CPU per request (primary and workers, from /proc) as the figure, req/s ratios beside it, our engine
 * as the client.
 */
import type { SpawnedServer } from '../../src/cluster/spawn.js';
import { measured, medianOf, r0, r2, ratioStats, ratioWithInterval, usPerRequest, withServerCpu, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';
import { engineRun, type EngineRun } from '../lib/engine-run.js';

type Run = EngineRun & { serverCpuS: number | undefined };

interface Contender {
  name: string;
  server: SpawnedServer;
  load: { keepAlive: boolean; connections?: number; protocol?: 'http/1.1' | 'h2' };
}

async function pairRow(ctx: BenchContext, spec: RowSpec, a: Contender, b: Contender, requests: number, reading: string): Promise<RowResult> {
  const run = (c: Contender) => withServerCpu(c.server, () => engineRun(c.server.url, { path: '/pid', concurrency: 50, requests, insecure: true, limitMs: 120_000, ...c.load }));
  await run(a);
  await run(b);
  const { kept, discarded, added } = await ctx.alternate(
    `8. Protocols, ${a.name} / ${b.name} (req/s; server CPU per request)`,
    'pair',
    ctx.pick(6, 3),
    async (flip) => {
      const got = {} as { a: Run; b: Run };
      for (const side of flip ? (['b', 'a'] as const) : (['a', 'b'] as const)) got[side] = await run(side === 'a' ? a : b);
      return got;
    },
    (g) => `${r0(g.a.rps)} (${r0(usPerRequest(g.a.serverCpuS, g.a.completed))} µs) / ${r0(g.b.rps)} (${r0(usPerRequest(g.b.serverCpuS, g.b.completed))} µs) → ${r2(g.a.rps / g.b.rps)}×`,
  );
  const cpuOf = (x: Run) => usPerRequest(x.serverCpuS, x.completed) ?? NaN;
  const cpu = (side: 'a' | 'b') => r0(medianOf(kept, (g) => cpuOf(g[side])));
  const errors = kept.reduce((s, g) => s + g.a.errors + g.b.errors, 0);
  // The figure is the server's CPU per request (what a protocol costs the server); req/s beside it.
  return measured(
    spec,
    ratioStats(kept.map((g) => [cpuOf(g.a), cpuOf(g.b)] as const), discarded, 'ratios (server CPU per request, primary + workers)', added),
    `${a.name} ${r0(medianOf(kept, (g) => g.a.rps))} req/s, server CPU ${cpu('a')} µs/request; ${b.name} ${r0(medianOf(kept, (g) => g.b.rps))} req/s, ${cpu('b')} µs/request (medians); req/s ${a.name} ÷ ${b.name} ${ratioWithInterval(kept.map((g) => g.a.rps / g.b.rps))}; errors ${errors}. ${reading}`,
  );
}

export const protocolsRow: RowPlan = {
  key: '8',
  name: '8. HTTPS and HTTP/2 next to HTTP',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const http = await ctx.serve();
    const https = await ctx.serve(['--tls']);
    const h2 = await ctx.serve(['--h2']);
    const info = (id: string, title: string): RowSpec => ({ id, title, goal: null, goalText: 'none (info)', unit: '×', digits: 2 });
    const close = ctx.pick(5000, 1500);
    const kept = ctx.pick(20_000, 5000);
    return [
      await pairRow(ctx, info('8a', 'Server CPU per request, HTTPS ÷ HTTP, a new connection (and TLS handshake) per request, /pid, c=50'), { name: 'https', server: https, load: { keepAlive: false } }, { name: 'http', server: http, load: { keepAlive: false } }, close,
        'Reading: with a connection per request, the TLS handshake (ECDHE on P-256) is most of the server\'s work.'),
      await pairRow(ctx, info('8b', 'Server CPU per request, HTTP/2 on 8 connections ÷ HTTP/1.1 keep-alive on 8 connections, /pid, c=50'), { name: 'h2 × 8', server: h2, load: { keepAlive: false, protocol: 'h2', connections: 8 } }, { name: 'http/1.1 keep-alive × 8', server: http, load: { keepAlive: true, connections: 8 } }, kept,
        'Reading: the same 8 connections spread over the workers; HTTP/2 adds TLS and framing per stream, HTTP/1.1 keep-alive is plain text.'),
      await pairRow(ctx, info('8c', 'Server CPU per request, HTTPS keep-alive ÷ HTTP keep-alive, 8 connections each, /pid, c=50'), { name: 'https keep-alive × 8', server: https, load: { keepAlive: true, connections: 8 } }, { name: 'http keep-alive × 8', server: http, load: { keepAlive: true, connections: 8 } }, kept,
        'Reading: once connections are kept, TLS costs the encryption of each response, not a handshake.'),
    ];
  },
};
