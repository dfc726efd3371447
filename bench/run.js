#!/usr/bin/env node
/**
 * `npm run bench`: the five benchmark rows of issue 6, each a ratio of two contenders alternated A B A B in
 * this one session, written to bench/RESULTS.md.
 *
 *   1. load engine: runLoad (non-keep-alive) vs hey -disable-keepalive and vs ab, c = 50, GET /pid
 *   2. server: cluster-demo serve vs the seed's Express 5 cluster, wrk (keep-alive) and ab (close)
 *   3. scaling: cluster speedup on /api/:n over the single process, / min(workers, cores)
 *   4. exact sum: sumTo vs the seed's loop, cost per iteration
 *   5. memory: the engine's peak RSS at 100k and 1M requests (bench/memory-run.js, a child process)
 *   6. policies: light and heavy routes, the cluster under rr, none and reuseport, each ÷ the single process
 *
 * Loopback only; every server and tool is a child process with a time limit, stopped on the way out.
 * BENCH_QUICK=1 shrinks every count (for trying the script, not for figures); BENCH_ROWS=1,3 runs some rows.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runLoad } from '../dist/load/engine.js';
import { summarizeRoute } from '../dist/load/summary.js';
import { cliEntryPath, singleEntryPath, spawnServer } from '../dist/server/spawn.js';
import { median, minMax } from '../dist/stats/fairness.js';
import { seedSumTo, sumTo } from '../dist/server/sum.js';
import { supportsReusePort } from '../dist/server/policy.js';
import { foreignCpuSince, reapedChildrenCpuSeconds, snapshotCpu, treeCpuSeconds } from './background.js';
import { renderResults } from './render.js';
import { haveTool, INSTALL_HINT, liveChildren, PACKAGE_OF, runAb, runHey, runWrk, toolVersions } from './tools.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ONLY = process.env.BENCH_ROWS ? new Set(process.env.BENCH_ROWS.split(',').map((s) => s.trim())) : null;
const WORKERS = 2;
const CORES = os.availableParallelism();

const CONFIG = {
  engine: { pairs: QUICK ? 3 : 7, requests: QUICK ? 3000 : 12_000, concurrency: 50, warmup: QUICK ? 1000 : 3000 },
  server: { pairs: QUICK ? 3 : 5, wrkSeconds: QUICK ? 1 : 3, wrkThreads: 1, wrkConnections: 50, abRequests: QUICK ? 3000 : 10_000, concurrency: 50 },
  scaling: { pairs: QUICK ? 3 : 5, n: 50_000_000, requests: QUICK ? 20 : 80, concurrency: 2 * WORKERS },
  sum: { pairs: QUICK ? 3 : 7, n: QUICK ? 5e7 : 2e8 },
  policies: { rounds: QUICK ? 2 : 5, lightRequests: QUICK ? 2000 : 8000, concurrency: 50, n: 50_000_000, heavyRequests: QUICK ? 20 : 60 },
  memory: { small: QUICK ? 20_000 : 100_000, large: QUICK ? 100_000 : 1_000_000, limitMB: 100, growthLimit: 0.1 },
};

/**
 * The machine may be shared. A pair during which processes outside the bench used more than this share of
 * all cores is measured again (up to EXTRA_PAIRS times per row) and listed as discarded in RESULTS.md.
 */
const PAIR_FOREIGN_LIMIT = 0.15;
const EXTRA_PAIRS = QUICK ? 1 : 4;
/** Before each row, wait (within this total budget) until other processes use under QUIET_SHARE. */
const QUIET_SHARE = 0.1;
const QUIET_BUDGET_S = Number(process.env.BENCH_QUIET_BUDGET_S ?? 60);

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const RESULTS_PATH = here('./RESULTS.md');
/** The seed's Express 5 cluster, the same fixture the tests use (env WORKERS, PORT). */
const SEED_SCRIPT = here('../test/fixtures/seed-cluster.mjs');

const log = (line) => process.stdout.write(`${line}\n`);
const r2 = (v) => Math.round(v * 100) / 100;
const r0 = (v) => Math.round(v);
const pct = (share) => `${(share * 100).toFixed(0)}%`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------
// Child servers: started lazily, each once, stopped at the end and on any way out.

const servers = new Map();

function startServer(name, script, args, env) {
  if (!servers.has(name)) {
    const promise = spawnServer(script, args, { env, readyTimeoutMs: 30_000 });
    servers.set(name, promise);
    promise.catch(() => servers.delete(name));
  }
  return servers.get(name);
}

const ourCluster = () => startServer('cluster-demo serve', cliEntryPath(), ['serve', '--port', '0', '--workers', String(WORKERS), '--log', 'json']);
const singleProcess = () => startServer('single process', singleEntryPath(), ['0', '127.0.0.1']);
const seedCluster = () => {
  if (!existsSync(SEED_SCRIPT)) throw new Error('the seed Express fixture test/fixtures/seed-cluster.mjs is missing');
  return startServer('seed Express cluster', SEED_SCRIPT, [], { WORKERS: String(WORKERS), PORT: '0' });
};

async function stopAllServers() {
  const all = [...servers.values()];
  servers.clear();
  await Promise.all(all.map((p) => p.then((s) => s.stop('SIGTERM', 10_000)).catch(() => undefined)));
}

/** Last resort (an exit we did not plan): signal every child now. */
function killEverythingNow() {
  for (const child of liveChildren) child.kill('SIGKILL');
  for (const p of servers.values()) p.then((s) => s.child.kill('SIGTERM')).catch(() => undefined);
}
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});
/** Set by Ctrl-C / SIGTERM: nothing more is measured and RESULTS.md is left as it was. */
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    log(`\n${signal}: stopping every child; RESULTS.md is left unchanged`);
    killEverythingNow();
    void stopAllServers().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Measuring.

/** runLoad with a hard limit: past timeoutMs it stops issuing and the run is reported as an error. */
async function engineRun(url, { path, concurrency, requests, transport, timeoutMs }) {
  const controller = new AbortController();
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`engine run on ${path} did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  const cpuBefore = process.cpuUsage();
  try {
    const recording = await Promise.race([
      runLoad({ target: new URL(url), path, concurrency, requests, keepAlive: false, timeoutMs: 10_000, retries: 0, transport, signal: controller.signal }),
      limit,
    ]);
    const cpu = process.cpuUsage(cpuBefore);
    const report = summarizeRoute(path, recording, null);
    return {
      rps: report.rps,
      completed: report.requests,
      errors: report.failed,
      portBackoffs: report.portBackoffs,
      clientCpuS: (cpu.user + cpu.system) / 1e6,
      p50: report.latencyMs.p50,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** An external tool's run, with its own CPU (it is reaped by this process) added. */
async function toolRun(fn) {
  const before = reapedChildrenCpuSeconds();
  const result = await fn();
  const after = reapedChildrenCpuSeconds();
  return { ...result, clientCpuS: before === null || after === null ? undefined : after - before };
}

/** Runs fn and adds the CPU the server (primary + workers) spent meanwhile. */
async function withServerCpu(server, fn) {
  const before = treeCpuSeconds(server.pid);
  const result = await fn();
  const after = treeCpuSeconds(server.pid);
  return { ...result, serverCpuS: before === null || after === null ? undefined : after - before };
}

const usPerRequest = (seconds, result) => (seconds === undefined || !result.completed ? undefined : (seconds * 1e6) / result.completed);

/**
 * Runs `count` pairs (or rounds), A B then B A alternately (`flip` tells runPair which). A pair during which
 * other processes used more than PAIR_FOREIGN_LIMIT of the machine is re-run, up to EXTRA_PAIRS times; the
 * discarded ones stay in the log. Returns the kept results.
 */
async function alternate({ count, out, label, runPair, describe }) {
  const kept = [];
  let discarded = 0;
  while (kept.length < count) {
    const snapshot = snapshotCpu();
    const result = await runPair(kept.length % 2 === 1);
    const foreign = foreignCpuSince(snapshot);
    const share = foreign?.share ?? 0;
    const text = describe(result);
    if (share > PAIR_FOREIGN_LIMIT && discarded < EXTRA_PAIRS) {
      discarded++;
      const line = `discarded (other processes used ${pct(share)} of the cores): ${text}`;
      log(`  ${label} ${line}`);
      out.push(line);
      continue;
    }
    kept.push(result);
    const line = `${label} ${kept.length}: ${text}${foreign ? ` [other processes ${pct(share)}]` : ''}`;
    log(`  ${line}`);
    out.push(line);
  }
  return { kept, discarded };
}

/** Ratios a/b per pair, their median and min–max. */
function ratioStats(pairs) {
  const ratios = pairs.map(([a, b]) => a / b);
  return { median: median(ratios), range: minMax(ratios), pairs: ratios.length };
}

const totalErrors = (results) => results.reduce((s, r) => s + (r.errors ?? 0), 0);
const medianOf = (results, pick) => {
  const values = results.map(pick).filter((v) => v !== undefined && Number.isFinite(v));
  return values.length ? median(values) : undefined;
};

// ---------------------------------------------------------------------------------------------------------
// Rows.

function row(id, title, goalText, goal, extra = {}) {
  return { id, title, goalText, goal, unit: '×', digits: 2, status: 'pending', ...extra };
}

function finish(r, stats, discarded = 0) {
  r.status = 'measured';
  r.median = stats.median;
  r.range = stats.range;
  r.pairs = discarded ? `${stats.pairs} (+${discarded} discarded)` : stats.pairs;
  if (r.goal) r.pass = r.goal.op === '>=' ? stats.median >= r.goal.value : stats.median <= r.goal.value;
  return r;
}

function skip(r, reason) {
  r.status = 'skipped';
  r.skipReason = reason;
  return r;
}

/** null when every tool is on PATH; else prints and returns the install hint. */
function missingTools(tools) {
  const missing = tools.filter((t) => !haveTool(t));
  if (missing.length === 0) return null;
  const line = `${missing.join(', ')} not installed (Debian package${missing.length > 1 ? 's' : ''} ${missing.map((t) => PACKAGE_OF[t]).join(', ')}); install with \`${INSTALL_HINT}\``;
  log(`  skipping: ${line}`);
  return line;
}

async function benchEngine(ctx) {
  const { pairs, requests, concurrency, warmup } = CONFIG.engine;
  const rows = {
    hey: row('1a', `Load engine vs \`hey -disable-keepalive\` (c=${concurrency}, /pid, ${requests / 1000}k req/run)`, '≥ 1.00×', { op: '>=', value: 1.0 }),
    ab: row('1b', `Load engine vs \`ab\` (c=${concurrency}, /pid, ${requests / 1000}k req/run)`, '≥ 0.80×', { op: '>=', value: 0.8 }),
    net: row('1c', "(info) the engine's `net` transport vs `ab`", 'none (what was tried)', null),
  };
  ctx.rows.push(rows.hey, rows.ab, rows.net);
  const noHey = missingTools(['hey']);
  const noAb = missingTools(['ab']);
  if (noHey) skip(rows.hey, noHey);
  if (noAb) {
    skip(rows.ab, noAb);
    skip(rows.net, noAb);
  }
  if (noHey && noAb) return;
  const server = await ourCluster();
  const url = `${server.url}/pid`;
  const timeoutMs = 120_000;
  const opts = { path: '/pid', concurrency, requests, timeoutMs };

  log(`  warm-up against ${server.url} (${warmup} requests each)`);
  await engineRun(server.url, { ...opts, requests: warmup, transport: 'raw' });
  await engineRun(server.url, { ...opts, requests: warmup, transport: 'net' });
  if (!noAb) await runAb(url, { concurrency, requests: warmup, timeoutMs });
  if (!noHey) await runHey(url, { concurrency, requests: warmup, timeoutMs });

  const contenders = {
    engine: () => engineRun(server.url, { ...opts, transport: 'raw' }),
    hey: () => toolRun(() => runHey(url, { concurrency, requests, timeoutMs })),
    ab: () => toolRun(() => runAb(url, { concurrency, requests, timeoutMs })),
    net: () => engineRun(server.url, { ...opts, transport: 'net' }),
  };
  const order = ['engine', 'hey', 'ab', 'net'].filter((k) => (k === 'hey' ? !noHey : k === 'engine' ? true : !noAb));
  const cpuText = (x) => {
    const client = usPerRequest(x.clientCpuS, x);
    const srv = usPerRequest(x.serverCpuS, x);
    return client === undefined ? '' : ` (CPU/req: client ${r0(client)} µs, server ${srv === undefined ? '?' : r0(srv)} µs)`;
  };
  const { kept, discarded } = await alternate({
    count: pairs,
    out: (ctx.runs['1. Load engine (req/s; CPU per request of the generator and of the server: primary + workers)'] = []),
    label: 'round',
    runPair: async (flip) => {
      const got = { order: flip ? [...order].reverse() : order };
      for (const name of got.order) got[name] = await withServerCpu(server, contenders[name]);
      return got;
    },
    describe: (got) =>
      `${got.order.join(' → ')}: engine ${r0(got.engine.rps)}${cpuText(got.engine)}` +
      (got.hey ? `; hey ${r0(got.hey.rps)}${cpuText(got.hey)} → ${r2(got.engine.rps / got.hey.rps)}×` : '') +
      (got.ab ? `; ab ${r0(got.ab.rps)}${cpuText(got.ab)} → ${r2(got.engine.rps / got.ab.rps)}×` : '') +
      (got.net ? `; net ${r0(got.net.rps)}${cpuText(got.net)} → ${r2(got.net.rps / got.ab.rps)}× ab` : ''),
  });
  const all = (name) => kept.map((g) => g[name]).filter(Boolean);
  const rps = (name) => r0(medianOf(all(name), (x) => x.rps));
  const cpu = (name, which) => {
    const v = medianOf(all(name), (x) => usPerRequest(which === 'client' ? x.clientCpuS : x.serverCpuS, x));
    return v === undefined ? '?' : r0(v);
  };
  const cpuLine = (name) => `${cpu(name, 'client')} µs of generator CPU and ${cpu(name, 'server')} µs of server CPU per request`;
  ctx.engineCpu = Object.fromEntries(order.map((n) => [n, { client: cpu(n, 'client'), server: cpu(n, 'server'), rps: rps(n) }]));
  if (!noHey) {
    finish(rows.hey, ratioStats(kept.map((g) => [g.engine.rps, g.hey.rps])), discarded);
    rows.hey.detail =
      `the engine (\`runLoad\`, keepAlive false, its default 'raw' transport, in the bench process) ${rps('engine')} req/s vs hey ${rps('hey')} req/s (medians; each from its own timing); ` +
      `errors: engine ${totalErrors(all('engine'))}, hey ${totalErrors(all('hey'))}. Medians: engine ${cpuLine('engine')}; hey ${cpuLine('hey')}.`;
  }
  if (!noAb) {
    finish(rows.ab, ratioStats(kept.map((g) => [g.engine.rps, g.ab.rps])), discarded);
    rows.ab.detail = `engine ${rps('engine')} req/s vs ab ${rps('ab')} req/s (medians); errors: ab ${totalErrors(all('ab'))}. Medians: ab ${cpuLine('ab')}.`;
    finish(rows.net, ratioStats(kept.map((g) => [g.net.rps, g.ab.rps])), discarded);
    rows.net.detail = `the same engine on \`net.Socket\` (transport 'net', its fallback where libuv's TCP handle is not reachable): ${rps('net')} req/s vs ab ${rps('ab')} req/s; errors ${totalErrors(all('net'))}; ${cpuLine('net')}.`;
  }
}

async function benchServer(ctx) {
  const { pairs, wrkSeconds, wrkThreads, wrkConnections, abRequests, concurrency } = CONFIG.server;
  const wrkRow = row('2a', `Server vs seed Express cluster, \`wrk -t${wrkThreads} -c${wrkConnections} -d${wrkSeconds}s\` (keep-alive, /pid)`, '≥ 3.00×', { op: '>=', value: 3.0 });
  const abRow = row('2b', `Server vs seed Express cluster, \`ab -c ${concurrency} -n ${abRequests}\` (new connection per request, /pid)`, '≥ 1.25×', { op: '>=', value: 1.25 });
  ctx.rows.push(wrkRow, abRow);
  const noWrk = missingTools(['wrk']);
  const noAb = missingTools(['ab']);
  if (noWrk) skip(wrkRow, noWrk);
  if (noAb) skip(abRow, noAb);
  if (noWrk && noAb) return;
  const servers = { ours: await ourCluster(), seed: await seedCluster() };
  const timeoutMs = 60_000;
  const target = (side) => `${servers[side].url}/pid`;
  log(`  ours ${servers.ours.url}, seed ${servers.seed.url}; warm-up`);
  for (const side of ['ours', 'seed']) {
    if (!noWrk) await runWrk(target(side), { threads: wrkThreads, connections: wrkConnections, durationS: 1, timeoutMs });
    if (!noAb) await runAb(target(side), { concurrency, requests: 2000, timeoutMs });
  }
  const measure = async (name, tool, rowObj) => {
    const { kept, discarded } = await alternate({
      count: pairs,
      out: (ctx.runs[`2. Server, ${name} (req/s, ours / seed)`] = []),
      label: `${name} pair`,
      runPair: async (flip) => {
        const got = { order: flip ? ['seed', 'ours'] : ['ours', 'seed'] };
        for (const side of got.order) got[side] = await withServerCpu(servers[side], () => tool(target(side)));
        return got;
      },
      describe: (got) => `${got.order.join(' → ')}: ${r0(got.ours.rps)} / ${r0(got.seed.rps)} → ${r2(got.ours.rps / got.seed.rps)}×`,
    });
    finish(rowObj, ratioStats(kept.map((g) => [g.ours.rps, g.seed.rps])), discarded);
    const side = (s) => kept.map((g) => g[s]);
    const srvCpu = (s) => {
      const v = medianOf(side(s), (x) => usPerRequest(x.serverCpuS, x));
      return v === undefined ? '?' : r0(v);
    };
    rowObj.detail =
      `cluster-demo serve ${r0(medianOf(side('ours'), (x) => x.rps))} req/s vs the seed's Express 5 cluster ${r0(medianOf(side('seed'), (x) => x.rps))} req/s (medians), ${WORKERS} workers each; ` +
      `server CPU per request (primary + workers): ours ${srvCpu('ours')} µs, seed ${srvCpu('seed')} µs; errors: ours ${totalErrors(side('ours'))}, seed ${totalErrors(side('seed'))}.`;
  };
  if (!noWrk) await measure('wrk keep-alive', (url) => runWrk(url, { threads: wrkThreads, connections: wrkConnections, durationS: wrkSeconds, timeoutMs }), wrkRow);
  if (!noAb) await measure('ab close', (url) => runAb(url, { concurrency, requests: abRequests, timeoutMs }), abRow);
}

async function benchScaling(ctx) {
  const { pairs, n, requests, concurrency } = CONFIG.scaling;
  const limit = Math.min(WORKERS, CORES);
  const r = row('3', `Scaling: cluster speedup on /api/${n} over one process, ÷ min(workers ${WORKERS}, cores ${CORES}) = ${limit}`, '≥ 0.95', { op: '>=', value: 0.95 });
  r.unit = '';
  ctx.rows.push(r);
  const servers = { single: await singleProcess(), cluster: await ourCluster() };
  const path = `/api/${n}`;
  const timeoutMs = 120_000;
  log(`  single ${servers.single.url}, cluster ${servers.cluster.url}; warm-up`);
  for (const s of Object.values(servers)) await engineRun(s.url, { path: '/api/1000000', concurrency, requests: 20, timeoutMs });
  const { kept, discarded } = await alternate({
    count: pairs,
    out: (ctx.runs[`3. Scaling, ${path} (req/s, cluster / single)`] = []),
    label: 'pair',
    runPair: async (flip) => {
      const got = { order: flip ? ['cluster', 'single'] : ['single', 'cluster'] };
      for (const side of got.order) got[side] = await engineRun(servers[side].url, { path, concurrency, requests, timeoutMs });
      return got;
    },
    describe: (got) =>
      `${got.order.join(' → ')}: ${r2(got.cluster.rps)} / ${r2(got.single.rps)} → speedup ${r2(got.cluster.rps / got.single.rps)}×, ÷ ${limit} = ${r2(got.cluster.rps / got.single.rps / limit)}`,
  });
  finish(r, ratioStats(kept.map((g) => [g.cluster.rps / limit, g.single.rps])), discarded);
  const speedup = median(kept.map((g) => g.cluster.rps / g.single.rps));
  const side = (s) => kept.map((g) => g[s]);
  r.detail =
    `our engine, a new connection per request, concurrency ${concurrency} (2 × workers), ${requests} requests per run. ` +
    `Single process ${r2(medianOf(side('single'), (x) => x.rps))} req/s (p50 ${r0(medianOf(side('single'), (x) => x.p50))} ms at concurrency ${concurrency}, so one request ≈ ${r0(1000 / medianOf(side('single'), (x) => x.rps))} ms of CPU), ` +
    `cluster ${r2(medianOf(side('cluster'), (x) => x.rps))} req/s; median speedup ${r2(speedup)}× with ${WORKERS} workers on ${CORES} cores; errors: ${totalErrors([...side('single'), ...side('cluster')])}.`;
}

/**
 * Row 6: each scheduling policy against the single process, light (/pid: the cost of getting a connection to a
 * worker) and heavy (/api/:n: does the policy keep every core busy). One round visits every contender, the
 * order reversed every other round.
 */
async function benchPolicies(ctx) {
  const { rounds, lightRequests, concurrency, n, heavyRequests } = CONFIG.policies;
  const limit = Math.min(WORKERS, CORES);
  const policies = supportsReusePort() ? ['rr', 'none', 'reuseport'] : ['rr', 'none'];
  const light = Object.fromEntries(['rr', 'none', 'reuseport'].map((p, i) => [p, row(`6${'abc'[i]}`, `Light /pid: cluster with --sched ${p} ÷ single process (c=${concurrency})`, p === 'reuseport' ? '≥ 0.95×' : 'none (info)', p === 'reuseport' ? { op: '>=', value: 0.95 } : null)]));
  const heavy = Object.fromEntries(['rr', 'none', 'reuseport'].map((p, i) => [p, row(`6${'def'[i]}`, `Heavy /api/${n}: --sched ${p} speedup ÷ min(workers ${WORKERS}, cores ${CORES}) = ${limit}`, '≥ 0.95', { op: '>=', value: 0.95 }, { unit: '' })]));
  for (const p of ['rr', 'none', 'reuseport']) ctx.rows.push(light[p], heavy[p]);
  if (!supportsReusePort()) {
    const why = `needs Node.js 22.12 or newer; this run is ${process.version} (run the bench with Node 24: PATH=…/node-24/bin:$PATH npm run bench)`;
    skip(light.reuseport, why);
    skip(heavy.reuseport, why);
  }
  const servers = { single: await singleProcess(), rr: await ourCluster() };
  for (const p of policies.filter((p) => p !== 'rr')) servers[p] = await startServer(`serve --sched ${p}`, cliEntryPath(), ['serve', '--port', '0', '--workers', String(WORKERS), '--sched', p, '--log', 'json']);
  const names = ['single', ...policies];
  log(`  ${names.map((s) => `${s} ${servers[s].url}`).join(', ')}; warm-up`);
  for (const s of names) {
    await engineRun(servers[s].url, { path: '/pid', concurrency, requests: 2000, timeoutMs: 60_000 });
    await engineRun(servers[s].url, { path: '/api/1000000', concurrency: 4, requests: 20, timeoutMs: 60_000 });
  }
  const { kept, discarded } = await alternate({
    count: rounds,
    out: (ctx.runs['6. Scheduling policies (req/s per contender, light then heavy)'] = []),
    label: 'round',
    runPair: async (flip) => {
      const order = flip ? [...names].reverse() : names;
      const got = { order, light: {}, heavy: {} };
      for (const s of order) got.light[s] = await engineRun(servers[s].url, { path: '/pid', concurrency, requests: lightRequests, timeoutMs: 120_000 });
      for (const s of order) got.heavy[s] = await engineRun(servers[s].url, { path: `/api/${n}`, concurrency: 2 * WORKERS, requests: heavyRequests, timeoutMs: 120_000 });
      return got;
    },
    describe: (got) =>
      `${got.order.join(' → ')}: light ${names.map((s) => `${s} ${r0(got.light[s].rps)}`).join(', ')}; heavy ${names.map((s) => `${s} ${r2(got.heavy[s].rps)}`).join(', ')}`,
  });
  for (const p of policies) {
    finish(light[p], ratioStats(kept.map((g) => [g.light[p].rps, g.light.single.rps])), discarded);
    finish(heavy[p], ratioStats(kept.map((g) => [g.heavy[p].rps / limit, g.heavy.single.rps])), discarded);
    const cpu = (side) => r0(medianOf(kept.map((g) => g.light[side]), (x) => (x.clientCpuS * 1e6) / x.completed));
    light[p].detail = `median light req/s: ${p} ${r0(medianOf(kept.map((g) => g.light[p]), (x) => x.rps))} vs single ${r0(medianOf(kept.map((g) => g.light.single), (x) => x.rps))}; generator CPU per request ${cpu(p)} µs vs ${cpu('single')} µs; errors ${totalErrors(kept.map((g) => g.light[p]))}.`;
    heavy[p].detail = `median heavy req/s: ${p} ${r2(medianOf(kept.map((g) => g.heavy[p]), (x) => x.rps))} vs single ${r2(medianOf(kept.map((g) => g.heavy.single), (x) => x.rps))}; errors ${totalErrors(kept.map((g) => g.heavy[p]))}.`;
  }
}

async function benchSum(ctx) {
  const { pairs, n } = CONFIG.sum;
  const r = row('4', `Exact sum: cost per iteration of \`sumTo\` vs the seed's loop (n = ${n.toExponential(0)}, in-process)`, '≤ 1.20×', { op: '<=', value: 1.2 });
  ctx.rows.push(r);
  const expected = (BigInt(n) * BigInt(n + 1)) / 2n;
  const time = (fn) => {
    const t0 = performance.now();
    const value = fn(n);
    return { ns: ((performance.now() - t0) * 1e6) / (n + 1), value };
  };
  // Warm-up: both loops reach optimized code before anything is timed.
  time(sumTo);
  time(seedSumTo);
  const { kept, discarded } = await alternate({
    count: pairs,
    out: (ctx.runs['4. Exact sum (ns per iteration, sumTo / seedSumTo)'] = []),
    label: 'pair',
    runPair: async (flip) => {
      const got = { order: flip ? ['seed', 'exact'] : ['exact', 'seed'] };
      for (const name of got.order) got[name] = time(name === 'exact' ? sumTo : seedSumTo);
      if (got.exact.value !== expected) throw new Error(`sumTo(${n}) = ${got.exact.value}, expected ${expected}`);
      return got;
    },
    describe: (got) => `${got.order.join(' → ')}: ${got.exact.ns.toFixed(3)} / ${got.seed.ns.toFixed(3)} ns → ${r2(got.exact.ns / got.seed.ns)}×`,
  });
  finish(r, ratioStats(kept.map((g) => [g.exact.ns, g.seed.ns])), discarded);
  r.detail =
    `\`sumTo\` (exact: plain Number chunks of 2^20 iterations, each partial sum carried into a BigInt) ${medianOf(kept, (g) => g.exact.ns).toFixed(3)} ns/iteration ` +
    `vs \`seedSumTo\` (the seed's Number loop) ${medianOf(kept, (g) => g.seed.ns).toFixed(3)} ns/iteration (medians); sumTo's result checked against n(n+1)/2 on every run.`;
}

function memoryRun(requests, url) {
  const timeoutMs = 60_000 + requests * 0.5;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [here('./memory-run.js'), String(requests), url], { stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      const line = stdout.trim().split('\n').pop();
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`memory-run ${requests} ended (${signal ?? `code ${code}`}) without a result${signal === 'SIGKILL' ? ` after ${timeoutMs / 1000} s` : ''}: ${stderr.trim().slice(-300)}`));
      }
    });
  });
}

async function benchMemory(ctx) {
  const { small, large, limitMB, growthLimit } = CONFIG.memory;
  const k = (x) => (x >= 1e6 ? `${x / 1e6}M` : `${x / 1e3}k`);
  const smallRow = row('5a', `Memory: engine peak RSS, ${k(small)} non-keep-alive /pid requests`, `≤ ${limitMB} MB, 0 failed`, { op: '<=', value: limitMB }, { unit: ' MB', digits: 1 });
  const largeRow = row('5b', `Memory: engine peak RSS, ${k(large)} non-keep-alive /pid requests`, `≤ ${limitMB} MB, 0 failed`, { op: '<=', value: limitMB }, { unit: ' MB', digits: 1 });
  const growthRow = row('5c', `Memory: peak RSS growth ${k(small)} → ${k(large)}`, `≤ ${growthLimit * 100}%`, { op: '<=', value: growthLimit * 100 }, { unit: '%', digits: 1 });
  ctx.rows.push(smallRow, largeRow, growthRow);
  const server = await ourCluster();
  const out = (ctx.runs['5. Memory (bench/memory-run.js, one child process per run, RSS sampled every 100 ms)'] = []);
  const describe = (m) =>
    `${k(m.requests)}: peak RSS ${m.rssPeakMB} MB (start ${m.rssStartMB}, end ${m.rssEndMB}, peak heap ${m.heapPeakMB} MB), ${m.ok} ok / ${m.failed} failed${m.failed ? ` ${JSON.stringify(m.errors)}` : ''}, ` +
    `${m.portBackoffs} EADDRNOTAVAIL back-offs, ${r0(m.rps)} req/s over ${r0(m.durationMs / 1000)} s, ${m.workersSeen} workers seen`;
  // small, large, small: the two small runs bracket the large one, so drift shows in their spread.
  const runs = [];
  for (const requests of [small, large, small]) {
    log(`  memory-run ${requests} …`);
    const snapshot = snapshotCpu();
    const m = await memoryRun(requests, server.url);
    const foreign = foreignCpuSince(snapshot);
    runs.push(m);
    const line = `${describe(m)}${foreign ? ` [other processes ${pct(foreign.share)}]` : ''}`;
    log(`  ${line}`);
    out.push(line);
  }
  const smalls = [runs[0], runs[2]];
  const big = runs[1];
  const smallPeak = median(smalls.map((m) => m.rssPeakMB));
  const clean = (m) => m.failed === 0 && m.completed === m.requests;
  finish(smallRow, { median: smallPeak, range: minMax(smalls.map((m) => m.rssPeakMB)), pairs: `${smalls.length} runs` });
  smallRow.pass = smallPeak <= limitMB && smalls.every(clean);
  smallRow.detail = `two runs of ${small} requests (before and after the ${k(large)} run): ${smalls.map((m) => `${m.rssPeakMB} MB, ${m.ok} ok / ${m.failed} failed, ${m.portBackoffs} EADDRNOTAVAIL back-offs`).join('; ')}.`;
  finish(largeRow, { median: big.rssPeakMB, range: undefined, pairs: '1 run' });
  largeRow.pass = big.rssPeakMB <= limitMB && clean(big);
  largeRow.detail =
    `one run of ${big.requests} requests (${r0(big.durationMs / 1000)} s, so it runs once): ${big.ok} ok, ${big.failed} failed${big.failed ? ` ${JSON.stringify(big.errors)}` : ''}, ` +
    `${big.portBackoffs} EADDRNOTAVAIL back-offs${big.notices.length ? ` (notice: "${big.notices[0]}")` : ''}, ${r0(big.rps)} req/s, peak V8 heap ${big.heapPeakMB} MB.`;
  const growth = (big.rssPeakMB / smallPeak - 1) * 100;
  finish(growthRow, { median: growth, range: minMax(smalls.map((m) => (big.rssPeakMB / m.rssPeakMB - 1) * 100)), pairs: `${k(large)} vs ${smalls.length} runs` });
  growthRow.detail = `peak RSS at ${k(large)} over the median peak at ${k(small)}, minus 1 (min–max: against each ${k(small)} run).`;
}

// ---------------------------------------------------------------------------------------------------------

const PLAN = [
  { key: '4', name: '4. Exact sum', fn: benchSum },
  { key: '1', name: '1. Load engine', fn: benchEngine },
  { key: '2', name: '2. Server', fn: benchServer },
  { key: '3', name: '3. Scaling', fn: benchScaling },
  { key: '5', name: '5. Memory', fn: benchMemory },
  { key: '6', name: '6. Scheduling policies', fn: benchPolicies },
];

/** Waits (at most budgetS) until other processes use under QUIET_SHARE of the cores over 2 s; returns the wait. */
async function waitForQuiet(budgetS) {
  const started = performance.now();
  let announced = false;
  for (;;) {
    const snapshot = snapshotCpu();
    if (!snapshot) return 0;
    await sleep(2000);
    const foreign = foreignCpuSince(snapshot);
    const waited = (performance.now() - started) / 1000;
    if (!foreign || foreign.share < QUIET_SHARE) return announced ? waited : 0;
    if (waited >= budgetS) {
      log(`  the machine is still busy (other processes: ${pct(foreign.share)}); measuring anyway`);
      return waited;
    }
    if (!announced) log(`  other processes use ${pct(foreign.share)} of the cores; waiting up to ${budgetS.toFixed(0)} s for a quieter machine`);
    announced = true;
  }
}

async function main() {
  const startedAt = performance.now();
  const ctx = { rows: [], runs: {}, notes: [], background: [], waitedSeconds: 0 };
  const machine = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cores: CORES,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown CPU',
    node: process.version,
    platform: os.platform(),
    kernel: os.release(),
    loadavg: os.loadavg().map((v) => v.toFixed(2)).join(', '),
    tools: toolVersions(),
  };
  log(`cluster-demo bench: ${CORES} cores, Node ${process.version}${QUICK ? ' (BENCH_QUICK: small counts, not for figures)' : ''}`);
  let failed = false;
  for (const step of PLAN) {
    if (interrupted) return;
    if (ONLY && !ONLY.has(step.key)) continue;
    log(`\n${step.name}`);
    ctx.waitedSeconds += await waitForQuiet(Math.max(0, QUIET_BUDGET_S - ctx.waitedSeconds));
    const before = ctx.rows.length;
    const t0 = performance.now();
    const snapshot = snapshotCpu();
    try {
      await step.fn(ctx);
    } catch (err) {
      failed = true;
      const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
      log(`  error: ${message}`);
      if (ctx.rows.length === before) ctx.rows.push(row(step.key, step.name, '—', null));
      for (const r of ctx.rows.slice(before)) {
        if (r.status === 'pending') {
          r.status = 'error';
          r.error = message;
        }
      }
    }
    const foreign = foreignCpuSince(snapshot);
    log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s${foreign ? `; other processes used ${pct(foreign.share)} of the ${CORES} cores meanwhile` : ''})`);
    if (foreign) {
      for (const r of ctx.rows.slice(before)) r.foreignShare = foreign.share;
      ctx.background.push(foreign);
    }
  }
  await stopAllServers();
  if (interrupted) return;
  machine.totalSeconds = (performance.now() - startedAt) / 1000;
  if (ctx.background.length > 0) {
    const coreSeconds = ctx.background.reduce((sum, b) => sum + b.coreSeconds, 0);
    const seconds = ctx.background.reduce((sum, b) => sum + b.seconds, 0);
    machine.foreign = { coreSeconds, seconds, share: coreSeconds / (seconds * CORES), waitedSeconds: ctx.waitedSeconds };
  }
  ctx.rows.sort((a, b) => a.id.localeCompare(b.id));
  addNotes(ctx);
  const settings = {
    'Server under test': `\`cluster-demo serve --port 0 --workers ${WORKERS}\` (dist/cli.js, round-robin scheduling), spawned once and shared by rows 1, 2, 3 and 5`,
    Seed: `the seed's Express 5 cluster (test/fixtures/seed-cluster.mjs, the tests' fixture), WORKERS=${WORKERS} PORT=0`,
    'Single process': '`node dist/server/single.js 0 127.0.0.1` (the same handler, no cluster module)',
    Order: 'row 1 runs engine → hey → ab → net, then the reverse the next round; rows 2–4 flip A/B every pair',
    'Shared machine': `a pair during which other processes used more than ${pct(PAIR_FOREIGN_LIMIT)} of the cores is measured again (at most ${EXTRA_PAIRS} times per row; the discarded pairs are listed below); before each row the bench waits up to ${QUIET_BUDGET_S} s in all for a quieter machine`,
    Counts: `row 1: ${CONFIG.engine.pairs} rounds × ${CONFIG.engine.requests} requests; row 2: ${CONFIG.server.pairs} pairs, wrk ${CONFIG.server.wrkSeconds} s, ab ${CONFIG.server.abRequests} requests; row 3: ${CONFIG.scaling.pairs} pairs × ${CONFIG.scaling.requests} requests; row 4: ${CONFIG.sum.pairs} pairs; row 5: ${CONFIG.memory.small}, ${CONFIG.memory.large}, ${CONFIG.memory.small} requests`,
  };
  if (QUICK) settings.Mode = 'BENCH_QUICK=1: reduced counts, figures not representative';
  writeFileSync(RESULTS_PATH, `${renderResults({ machine, rows: ctx.rows, settings, notes: ctx.notes, runs: ctx.runs })}\n`);
  log(`\nwrote ${RESULTS_PATH} (${machine.totalSeconds.toFixed(0)} s)`);
  for (const r of ctx.rows) {
    const measured = r.status === 'measured' ? `${r.median.toFixed(r.digits)}${r.unit}` : r.status;
    log(`  ${r.id.padEnd(3)} ${r.goalText.padEnd(22)} ${measured.padEnd(12)} ${r.status === 'measured' && r.goal ? (r.pass ? 'pass' : 'MISS') : ''}`);
  }
  process.exitCode = failed ? 1 : 0;
}

/** Notes: what the CPU accounting says about row 1, and a pointer for every missed goal. */
function addNotes(ctx) {
  const byId = Object.fromEntries(ctx.rows.map((r) => [r.id, r]));
  const cpu = ctx.engineCpu;
  if (cpu?.engine && (cpu.ab || cpu.hey)) {
    const parts = Object.entries(cpu).map(([name, c]) => `${name} ${c.client} µs (server ${c.server} µs)`);
    ctx.notes.push(
      `Row 1, where the time goes: on ${CORES} cores the generator, the primary (which accepts every connection and hands it to a worker) and both workers share the CPUs, ` +
        `so a generator that costs more CPU per request leaves less for the server. Median CPU per request, generator (server): ${parts.join('; ')}.`,
    );
  }
  for (const r of ctx.rows) {
    if (r.status === 'measured' && r.goal && !r.pass) {
      ctx.notes.push(`Row ${r.id} missed its goal (${r.goalText}; measured ${r.median.toFixed(r.digits)}${r.unit}).${MISS_NOTES[r.id] ? ` ${MISS_NOTES[r.id]}` : ''}`);
    }
  }
}

/** What was found and tried when a row missed, from profiling this code on this machine. */
const MISS_NOTES = {
  '1b':
    'Profiled (perf and --cpu-prof, 30k requests): about two thirds of the engine\'s CPU is kernel time in connect(), write() and close() on loopback (the SYN/ACK handshake runs in the caller\'s context), the same syscalls ab makes; ' +
    'the rest is spread over V8/Node machinery per connection (TCPWrap/ConnectWrap/WriteWrap objects, three MakeCallback crossings, GC) with no single hotspot; the response parser is ~4 µs. ' +
    'Sending an HTTP/1.0 request exactly like ab\'s did not change the ratio. The `net` transport (row 1c) is slower still. Not fixed here: the engine is in src/ (see the session report).',
  '6c':
    'On 2 cores the generator shares the machine: at ~9k req/s it used ~85 µs of CPU per request, about 0.8 of a core, so the single process gets the other core and the two reuseport workers share what is left with the generator (about 1.0× is the ceiling). ' +
    'Tried: the same comparison with ab as the generator (Node 24, ab -c 50 -n 20000, alternated): single 6244, 7653, 7775 req/s vs reuseport 6060, 7972, 9304, i.e. 0.97×, 1.04×, 1.20×; the engine\'s own rounds spread from 0.72× to 1.22×.',
  '6f':
    'Not overhead but placement. With SO_REUSEPORT the kernel picks a socket per new connection by a hash of the 4-tuple, without regard to how busy its worker is; at concurrency 2 × workers a hash streak puts 3 of 4 CPU-bound requests on one worker while the other idles. ' +
    '--cpu-prof on the workers (Node 24, 120 × /api/50000000, concurrency 4) showed the same per-request work as none (sumTo) but uneven: the two reuseport workers spent 50% and 58% of their time in sumTo against 60% and 59% with none, at 31 vs 37 req/s. ' +
    'Raising the concurrency closes the gap: a probe with --sched reuseport measured 33, 38 and 40 req/s at concurrency 4, 8 and 16 (none/rr reach ~40 at 4). Only a BPF program on the socket group (SO_ATTACH_REUSEPORT_EBPF) could make the choice load-aware; Node does not offer one.',
  '3':
    'Check the "other processes" column first: /api/:n is pure CPU, so any other load on the 2 cores takes directly from the cluster (which needs both) and not from the single process (which needs one).',
};

main().catch(async (err) => {
  console.error(err);
  killEverythingNow();
  await stopAllServers();
  process.exitCode = 1;
});
