/**
 * `npm run bench [-- --rows 1,6] [-- --quick] [-- --budget 60] [-- --node 24]`: each row of bench/rows/ in turn,
 * on loopback, then bench/results/node-N.md and .json for this Node line and bench/RESULTS.md, every line side by
 * side (entirely generated; a run of some rows, or --quick, writes bench/out/RESULTS-partial.md instead).
 * `--node 24` runs the whole bench under that line's official binary (fetched like the test matrix's, into
 * .cache/node/). Every server and tool is a child process with a time limit, stopped on every way out; Ctrl-C
 * leaves the results as they were.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { foreignCpuSince, snapshotCpu, type ForeignCpu } from './lib/background.js';
import { BenchContext, pct, type RowPlan, type RowResult } from './lib/bench.js';
import { renderIndex, renderResults, resultsFile, type BenchResult, type Machine } from './lib/render.js';
import { liveChildren, toolVersions } from './lib/tools.js';
import { engineRow } from './rows/1-engine.js';
import { serverRow } from './rows/2-server.js';
import { scalingRow } from './rows/3-scaling.js';
import { sumRow } from './rows/4-sum.js';
import { memoryRow } from './rows/5-memory.js';
import { policiesRow } from './rows/6-policies.js';
import { statsRow } from './rows/7-stats.js';
import { protocolsRow } from './rows/8-protocols.js';
import { appRow } from './rows/9-app.js';
import { longLivedRow } from './rows/10-long-lived.js';

const PLAN: RowPlan[] = [sumRow, engineRow, serverRow, scalingRow, memoryRow, policiesRow, statsRow, protocolsRow, appRow, longLivedRow];
const INDEX = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));
const PARTIAL_DIR = fileURLToPath(new URL('./out', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Before each row, wait (within this budget in all) until other processes use under QUIET_SHARE. */
const QUIET_SHARE = 0.1;
const QUIET_BUDGET_S = 60;

const log = (line: string) => process.stdout.write(`${line}\n`);

const { values } = parseArgs({ options: { rows: { type: 'string' }, quick: { type: 'boolean', default: false }, budget: { type: 'string' }, node: { type: 'string' } } });

// --node N: the same bench under another line's binary (its servers and tools are children of that node).
if (values.node !== undefined) {
  if (!/^\d+$/.test(values.node)) {
    console.error(`error: --node ${values.node}: a Node.js major version, e.g. 24`);
    process.exit(2);
  }
  const bin = execFileSync('bash', ['-c', 'source scripts/node-line.sh && node_bin_dir "$1"', 'node-line', values.node], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const args = process.argv.slice(2).filter((arg, i, all) => arg !== '--node' && all[i - 1] !== '--node' && !arg.startsWith('--node='));
  const child = spawnSync(path.join(bin, 'node'), ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: 'inherit', cwd: ROOT, env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` } });
  process.exit(child.status ?? 1);
}
const budgetS = values.budget === undefined ? (values.quick ? 10 : 60) : Number(values.budget);
if (!Number.isFinite(budgetS) || budgetS < 0) {
  console.error(`error: --budget ${values.budget}: seconds per row for added pairs, e.g. 60`);
  process.exit(2);
}
const asked = values.rows?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
const unknown = asked?.filter((key) => !PLAN.some((p) => p.key === key)) ?? [];
if (unknown.length) {
  console.error(`error: --rows ${unknown.join(',')}: no such row (rows: ${PLAN.map((p) => p.key).sort().join(', ')})`);
  process.exit(2);
}

const cores = os.availableParallelism();
const ctx = new BenchContext({ quick: values.quick === true, budgetS, workers: 2, cores, pairForeignLimit: 0.15, extraPairs: values.quick ? 1 : 4 }, log);

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`\n${signal}: stopping every child; RESULTS.md is left unchanged`);
    for (const child of liveChildren) child.kill('SIGKILL');
    ctx.killServers();
    void ctx.stopServers().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Waits (at most budgetS) until other processes use under QUIET_SHARE of the cores over 2 s; returns the wait. */
async function waitForQuiet(budgetS: number): Promise<number> {
  const started = performance.now();
  for (let announced = false; ; announced = true) {
    const snapshot = snapshotCpu();
    if (!snapshot) return 0;
    await sleep(2000);
    const foreign = foreignCpuSince(snapshot);
    const waited = (performance.now() - started) / 1000;
    if (!foreign || foreign.share < QUIET_SHARE || waited >= budgetS) return announced ? waited : 0;
    if (!announced) log(`  other processes use ${pct(foreign.share)} of the cores; waiting up to ${budgetS.toFixed(0)} s for a quieter machine`);
  }
}

/** One row plan: its rows, with the machine's other load while it ran; an error becomes error rows. */
async function runPlan(plan: RowPlan): Promise<{ rows: RowResult[]; foreign: ForeignCpu | null; failed: boolean }> {
  const snapshot = snapshotCpu();
  const t0 = performance.now();
  let rows: RowResult[];
  let failed = false;
  try {
    rows = await plan.run(ctx);
  } catch (err) {
    failed = true;
    const reason = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    log(`  error: ${reason}`);
    rows = [{ id: plan.key, title: plan.name, goal: null, goalText: '—', unit: '', digits: 0, status: 'error', reason }];
  }
  const foreign = foreignCpuSince(snapshot);
  log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s${foreign ? `; other processes used ${pct(foreign.share)} of the ${cores} cores meanwhile` : ''})`);
  return { rows: rows.map((r) => (foreign ? { ...r, foreignShare: foreign.share } : r)), foreign, failed };
}

async function main(): Promise<void> {
  const started = performance.now();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  log(`cluster-demo bench: ${cores} cores, Node ${process.version}${ctx.settings.quick ? ' (--quick: small counts, not for figures)' : ''}`);
  const rows: RowResult[] = [];
  const background: ForeignCpu[] = [];
  let waited = 0;
  let failed = false;
  for (const plan of PLAN.filter((p) => asked === null || asked.includes(p.key))) {
    if (interrupted) return;
    log(`\n${plan.name}`);
    waited += await waitForQuiet(Math.max(0, QUIET_BUDGET_S - waited));
    const done = await runPlan(plan);
    rows.push(...done.rows);
    if (done.foreign) background.push(done.foreign);
    failed ||= done.failed;
  }
  await ctx.stopServers();
  if (interrupted) return;
  const coreSeconds = background.reduce((s, b) => s + b.coreSeconds, 0);
  const seconds = background.reduce((s, b) => s + b.seconds, 0);
  const machine: Machine = {
    date,
    cores,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown CPU',
    node: process.version,
    platform: os.platform(),
    kernel: os.release(),
    loadavg: os.loadavg().map((v) => v.toFixed(2)).join(', '),
    tools: toolVersions(),
    totalSeconds: (performance.now() - started) / 1000,
    foreign: seconds > 0 ? { coreSeconds, seconds, share: coreSeconds / (seconds * cores), waitedSeconds: waited } : null,
  };
  const settings = {
    Servers: '`cluster-demo serve --port 0 --workers 2` (dist/cli.js, --log json) with the flags each row names; one process (`dist/cluster/single.js`); the seed\'s Express 5 cluster (test/fixtures/seed-cluster.mjs). Each started once and shared, except where a connection per request is compared (rows 2b, 2d, 7b, 9b, 10a, 10b): two fresh servers per pair, warmed up alike (TIME_WAIT, NOTES.md row 7).',
    Order: 'pairs flip A/B every other pair; row 1 runs engine → hey → ab → net, then the reverse; row 6 is `compare --policies` (rotated order every run)',
    'Shared machine': 'a pair during which other processes used more than 15% of the cores is measured again (at most 4 times per row; discarded pairs are listed below); before each row the bench waits up to 60 s in all for a quieter machine',
    'Added pairs': `while a goal row's interval straddles its goal, pairs are added (row 6: two runs of compare --policies at a time) for up to ${budgetS} s per row (--budget); the Pairs column says how many were added`,
  };
  rows.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  const nodeMajor = Number.parseInt(process.versions.node, 10);
  const file = resultsFile({ rowsAsked: asked, quick: ctx.settings.quick, nodeMajor }, { results: RESULTS_DIR, partial: PARTIAL_DIR });
  const result: BenchResult = { machine, rowsAsked: asked, quick: ctx.settings.quick, rows, settings, runs: ctx.runs, budgetS };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, renderResults(result));
  const full = file.startsWith(RESULTS_DIR);
  if (full) {
    writeFileSync(file.replace(/\.md$/, '.json'), `${JSON.stringify(result, null, 2)}\n`);
    const lines = readdirSync(RESULTS_DIR).filter((f) => /^node-\d+\.json$/.test(f)).map((f) => JSON.parse(readFileSync(path.join(RESULTS_DIR, f), 'utf8')) as BenchResult);
    writeFileSync(INDEX, renderIndex(lines));
  }
  log(`\nwrote ${file}${full ? ` and ${INDEX}` : ''} (${machine.totalSeconds.toFixed(0)} s)${full ? '' : '; bench/results/ and RESULTS.md are written by full runs only'}`);
  for (const r of rows) log(`  ${r.id.padEnd(3)} ${r.goalText.padEnd(20)} ${r.status === 'measured' ? `${r.median.toFixed(r.digits)}${r.unit}${r.interval ? ` [${r.interval.low.toFixed(r.digits)}–${r.interval.high.toFixed(r.digits)}]` : ''} (${r.pairs})` : r.status} ${r.status === 'measured' && r.state !== null ? r.state : ''}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch(async (err: unknown) => {
  console.error(err);
  ctx.killServers();
  await ctx.stopServers();
  process.exitCode = 1;
});
