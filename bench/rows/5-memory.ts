/**
 * Row 5: the probe's peak RSS over long runs, each in a process of its own (memory-run.ts): small, large,
 * small (the two small runs bracket the large one, so drift shows in their spread), then large with --report.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, minMax } from '../../src/stats/fairness.js';
import { measured, r0, type BenchContext, type RowPlan, type RowResult } from '../lib/bench.js';
import { liveChildren } from '../lib/tools.js';

interface MemoryRun {
  requests: number;
  report: boolean;
  reportBytes: number;
  completed: number;
  ok: number;
  failed: number;
  errors: Record<string, number>;
  portBackoffs: number;
  notices: string[];
  rps: number;
  durationMs: number;
  rssPeakMB: number;
  maxRssMB: number;
  heapPeakMB: number;
}

const SCRIPT = fileURLToPath(new URL('../memory-run.ts', import.meta.url));

/**
 * How this Node runs memory-run.ts without a loader in the measured process: type stripping (built in from
 * 23.6, behind a flag from 22.6); older lines fall back to tsx, whose loader then counts in the RSS.
 */
export function typeScriptArgs(version = process.versions.node): { args: string[]; how: string } {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > 23 || (major === 23 && minor >= 6)) return { args: [], how: 'Node strips the types (no loader)' };
  if (major > 22 || (major === 22 && minor >= 6)) return { args: ['--experimental-strip-types', '--no-warnings'], how: 'Node strips the types (--experimental-strip-types)' };
  return { args: ['--import', 'tsx'], how: 'under tsx (Node 20 cannot strip types): its loader is in the RSS' };
}

function memoryRun(requests: number, url: string, report: boolean): Promise<MemoryRun> {
  const timeoutMs = 60_000 + requests * 0.5;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...typeScriptArgs().args, SCRIPT, String(requests), url, ...(report ? ['--report'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as MemoryRun);
      } catch {
        reject(new Error(`memory-run ${requests} ended (${signal ?? `code ${code}`}) without a result: ${stderr.trim().slice(-300)}`));
      }
    });
  });
}

const k = (x: number) => (x >= 1e6 ? `${x / 1e6}M` : `${x / 1e3}k`);
const clean = (m: MemoryRun) => m.failed === 0 && m.completed === m.requests;

export const memoryRow: RowPlan = {
  key: '5',
  name: '5. Memory',
  async run(ctx: BenchContext): Promise<RowResult[]> {
    const small = ctx.pick(100_000, 20_000);
    const large = ctx.pick(1_000_000, 100_000);
    const server = await ctx.serve();
    const out = ctx.group(`5. Memory (bench/memory-run.ts, ${typeScriptArgs().how}: the probe in a child process per run; peak RSS as the kernel counts it)`);
    const runs: MemoryRun[] = [];
    for (const [requests, report] of [[small, false], [large, false], [small, false], [large, true]] as const) {
      ctx.log(`  memory-run ${requests}${report ? ' --report' : ''} …`);
      const m = await memoryRun(requests, server.url, report);
      runs.push(m);
      out.push(`${k(m.requests)}${m.report ? ` with --report (${r0(m.reportBytes / 1024)} KB of HTML)` : ''}: peak RSS ${m.maxRssMB} MB (sampled ${m.rssPeakMB} MB, peak heap ${m.heapPeakMB} MB), ${m.ok} ok / ${m.failed} failed, ${m.portBackoffs} EADDRNOTAVAIL back-offs, ${r0(m.rps)} req/s over ${r0(m.durationMs / 1000)} s`);
      ctx.log(`  ${out[out.length - 1]}`);
    }
    const [s1, big, s2, bigReport] = runs as [MemoryRun, MemoryRun, MemoryRun, MemoryRun];
    const smallPeak = median([s1.maxRssMB, s2.maxRssMB]);
    const limit = 100;
    const spec = (id: string, title: string, goalText: string, goal: number, unit: string) => ({ id, title, goal: { op: '<=' as const, value: goal }, goalText, unit, digits: 1 });
    const growth = (big.maxRssMB / smallPeak - 1) * 100;
    const withReport = (bigReport.maxRssMB / big.maxRssMB - 1) * 100;
    return [
      measured(spec('5a', `Memory: the probe's peak RSS, ${k(small)} non-keep-alive /pid requests`, `≤ ${limit} MB, 0 failed`, limit, ' MB'), { median: smallPeak, range: minMax([s1.maxRssMB, s2.maxRssMB]), pairs: '2 runs' }, `two runs of ${small} requests, before and after the ${k(large)} run: ${s1.maxRssMB} and ${s2.maxRssMB} MB; failed ${s1.failed + s2.failed}.`, smallPeak <= limit && clean(s1) && clean(s2)),
      measured(spec('5b', `Memory: the probe's peak RSS, ${k(large)} non-keep-alive /pid requests`, `≤ ${limit} MB, 0 failed`, limit, ' MB'), { median: big.maxRssMB, range: null, pairs: '1 run' }, `${big.ok} ok, ${big.failed} failed, ${big.portBackoffs} EADDRNOTAVAIL back-offs${big.notices.length ? ` (notice: "${big.notices[0]}")` : ''}, ${r0(big.rps)} req/s over ${r0(big.durationMs / 1000)} s, peak V8 heap ${big.heapPeakMB} MB.`, big.maxRssMB <= limit && clean(big)),
      measured(spec('5c', `Memory: peak RSS growth ${k(small)} → ${k(large)}`, '≤ 10%', 10, '%'), { median: growth, range: minMax([s1, s2].map((m) => (big.maxRssMB / m.maxRssMB - 1) * 100)), pairs: `${k(large)} vs 2 runs` }, `peak RSS at ${k(large)} over the median peak at ${k(small)}, minus 1 (min–max: against each ${k(small)} run).`),
      measured(spec('5d', `Memory: ${k(large)} requests with --report (the timelines, then the HTML) over without`, '≤ 10%', 10, '%'), { median: withReport, range: null, pairs: '1 run each' }, `peak RSS ${bigReport.maxRssMB} MB with --report (a ${r0(bigReport.reportBytes / 1024)} KB page, ${bigReport.failed} failed) vs ${big.maxRssMB} MB without, the runs one after the other.`, withReport <= 10 && clean(bigReport)),
    ];
  },
};
