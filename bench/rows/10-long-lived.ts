/**
 * Row 10 (information, issue 24): what the primary's own balancer costs, and what an open WebSocket costs.
 *
 * - 10a, 10b: `serve --sched least-conn` and `--sched ip-hash` (the primary accepts, picks, and passes the socket
 *   over IPC itself: cluster/balancer.ts) against `--sched rr` (node:cluster does the same inside), ab with a new
 *   connection per request on /pid (two fresh servers per pair: bench/lib/servers.ts), the server's CPU per request
 *   (primary + workers) as the figure, req/s beside.
 * - 10c: 10,000 idle WebSockets held on `serve` (2 workers): the server's resident memory (primary + workers, VmRSS
 *   from /proc) after they opened minus before, per socket. One run, no interval.
 */
import { readFileSync } from 'node:fs';
import { spawnServe } from '../../src/cluster/spawn.js';
import { descendantPids } from '../../src/external/process-tree.js';
import { HeldClients } from '../../src/load/long-lived-clients.js';
import { measured, r0, skipped, type BenchContext, type RowPlan, type RowResult, type RowSpec } from '../lib/bench.js';
import { compareServers } from '../lib/compare-servers.js';
import { runAb } from '../lib/tools.js';

/** The resident set of a process tree, KB (processes that are gone count nothing). */
function treeRssKb(root: number): number {
  let kb = 0;
  for (const pid of [root, ...descendantPids(root)]) {
    try {
      kb += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb;
}

export const longLivedRow: RowPlan = {
  key: '10',
  name: '10. Long-lived connections: the primary\'s balancer, and an idle WebSocket',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const abRequests = ctx.pick(5000, 1500);
    const tool = `\`ab -c 50 -n ${abRequests}\` (a new connection per request), /pid, fresh servers per pair`;
    const info = (id: string, title: string, unit = '×', digits = 2): RowSpec => ({ id, title, goal: null, goalText: 'none (info)', unit, digits });
    const specs = [
      info('10a', `Server CPU per request, --sched least-conn ÷ rr, ${tool}`),
      info('10b', `Server CPU per request, --sched ip-hash ÷ rr, ${tool}`),
    ];
    const rows: RowResult[] = [];
    const noAb = ctx.missingTools(['ab']);
    if (noAb) rows.push(...specs.map((spec) => skipped(spec, noAb)));
    else {
      // Two fresh servers per pair (TIME_WAIT: bench/lib/servers.ts), each warmed up alike.
      const ab = (url: string) => runAb(url, { concurrency: 50, requests: abRequests, timeoutMs: 60_000 });
      const start = (policy: string) => () => spawnServe(['--port', '0', '--workers', String(ctx.settings.workers), '--sched', policy], { readyTimeoutMs: 30_000 });
      for (const policy of ['least-conn', 'ip-hash'] as const) {
        const spec = specs[policy === 'least-conn' ? 0 : 1]!;
        rows.push(await compareServers(ctx, spec, { fresh: start(policy) }, { short: 'rr', long: '--sched rr', server: { fresh: start('rr') } }, 'ab close', ab, 'cpu', { group: '10. Balancer', path: '/pid', ours: `--sched ${policy}`, warm: ab }));
      }
    }
    rows.push(await idleSockets(ctx, info('10c', 'Server memory per idle WebSocket: RSS (primary + workers) with 10,000 open ÷ 10,000', ' KB', 1)));
    return rows;
  },
};

async function idleSockets(ctx: BenchContext, spec: RowSpec): Promise<RowResult> {
  const connections = ctx.pick(10_000, 2_000);
  // A server of its own, fresh: one reused after the earlier rows' load has grown heaps that absorb new sockets
  // (a full run read 301 MB → 338 MB, 3.7 KB a socket, where a fresh server reads about 11 KB).
  const server = await ctx.server('serve for idle WebSockets', () => spawnServe(['--port', '0', '--workers', String(ctx.settings.workers)], { readyTimeoutMs: 30_000 }));
  // The workers' heaps settle after start-up; a few sockets first, so ws's own code is loaded before the baseline.
  const warm = new HeldClients({ kind: 'ws', url: server.url, connections: 20, concurrency: 20, messages: 1 });
  await warm.open();
  await warm.close();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const before = treeRssKb(server.pid);
  const clients = new HeldClients({ kind: 'ws', url: server.url, connections, concurrency: 200, messages: 0, timeoutMs: 30_000 });
  const started = Date.now();
  try {
    await clients.open();
    const opened = clients.openSessions().length;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = treeRssKb(server.pid);
    const perSocket = (after - before) / Math.max(1, opened);
    ctx.log(`  ${opened} of ${connections} sockets open in ${((Date.now() - started) / 1000).toFixed(1)} s; RSS ${r0(before / 1024)} MB → ${r0(after / 1024)} MB`);
    return measured(
      { ...spec, title: spec.title.replace('10,000', connections.toLocaleString('en-US')).replace('10,000', connections.toLocaleString('en-US')) },
      { median: Math.round(perSocket * 10) / 10, range: null, pairs: '1 run', statistic: 'one run (no interval): RSS difference ÷ sockets open, KB' },
      `${opened} of ${connections} WebSockets open (each its own connection, idle after the greeting), ${ctx.settings.workers} workers; the server's RSS (primary + workers) ${r0(before / 1024)} MB before, ${r0(after / 1024)} MB with them open.`,
    );
  } finally {
    await clients.close(5_000);
  }
}
