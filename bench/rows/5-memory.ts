/**
 * Row 5: the probe's peak RSS over long runs, measured on the real command (`cluster-demo probe --url … --json`,
 * dist/cli.js, as a user runs it) in a process of its own: small, large, small (the two small runs bracket the
 * large one, so drift shows in their spread), then large with --report. The peak is the kernel's high-water mark
 * (VmHWM in /proc/<pid>/status), read every 20 ms while the process lives: nothing of the bench, no loader, no
 * sampler inside the measured process.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeResult } from '../../src/probe/run.js';
import { median, minMax } from '../../src/statistics/fairness.js';
import { measured, r0, type BenchContext, type RowPlan, type RowResult } from '../lib/bench.js';
import { runCommand } from '../lib/tools.js';

interface MemoryRun {
  requests: number;
  report: boolean;
  reportBytes: number;
  completed: number;
  ok: number;
  failed: number;
  portBackoffs: number;
  notices: string[];
  rps: number;
  durationMs: number;
  /** The kernel's peak resident set of the probe process, MB. */
  peakRssMB: number;
}

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** VmHWM of a live process in MB, or undefined once it has gone. */
function highWaterMark(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

async function memoryRun(requests: number, url: string, report: boolean): Promise<MemoryRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-memory-'));
  const reportFile = path.join(dir, 'report.html');
  const args = [CLI, 'probe', '--url', url, '--route', 'pid', '--requests', String(requests), '--concurrency', '50', '--json', '--no-progress', ...(report ? ['--report', reportFile] : [])];
  let peak = 0;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const run = await runCommand(process.execPath, args, 60_000 + requests * 0.5, (child) => {
      const sample = () => (peak = Math.max(peak, highWaterMark(child.pid!) ?? 0));
      sampler = setInterval(sample, 20);
      // The output is complete when stdout ends; the process has not exited yet, so its mark is read once more.
      child.stdout!.on('end', sample);
    });
    let result: ProbeResult;
    try {
      result = JSON.parse(run.stdout) as ProbeResult;
    } catch {
      throw new Error(`probe --requests ${requests} ended (${run.signal ?? `code ${run.code}`}) without a result: ${run.stderr.trim().slice(-300)}`);
    }
    const route = result.routes[0]!;
    return { requests, report, reportBytes: report ? statSync(reportFile).size : 0, completed: route.requests, ok: route.ok, failed: route.failed, portBackoffs: route.portBackoffs, notices: result.notices, rps: route.rps, durationMs: route.durationMs, peakRssMB: Math.round(peak * 10) / 10 };
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
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
    const out = ctx.group(`5. Memory (\`cluster-demo probe --url … --route pid --json\`, a process per run; peak RSS = the kernel's VmHWM)`);
    const runs: MemoryRun[] = [];
    for (const [requests, report] of [[small, false], [large, false], [small, false], [large, true]] as const) {
      ctx.log(`  probe --requests ${requests}${report ? ' --report' : ''} …`);
      const m = await memoryRun(requests, server.url, report);
      runs.push(m);
      out.push(`${k(m.requests)}${m.report ? ` with --report (${r0(m.reportBytes / 1024)} KB of HTML)` : ''}: peak RSS ${m.peakRssMB} MB, ${m.ok} ok / ${m.failed} failed, ${m.portBackoffs} EADDRNOTAVAIL back-offs, ${r0(m.rps)} req/s over ${r0(m.durationMs / 1000)} s`);
      ctx.log(`  ${out[out.length - 1]}`);
    }
    const [s1, big, s2, bigReport] = runs as [MemoryRun, MemoryRun, MemoryRun, MemoryRun];
    const smallPeak = median([s1.peakRssMB, s2.peakRssMB]);
    const limit = 100;
    const spec = (id: string, title: string, goalText: string, goal: number, unit: string) => ({ id, title, goal: { op: '<=' as const, value: goal }, goalText, unit, digits: 1 });
    const growth = (big.peakRssMB / smallPeak - 1) * 100;
    const withReportMB = bigReport.peakRssMB - big.peakRssMB;
    const state = (ok: boolean): 'pass' | 'miss' => (ok ? 'pass' : 'miss');
    // Memory peaks are single runs, not pairs: no interval; the figure is judged as measured, and says so.
    const one = 'peak RSS of one run (no pairs, no interval)';
    return [
      measured(spec('5a', `Memory: the probe's peak RSS, ${k(small)} non-keep-alive /pid requests`, `≤ ${limit} MB, 0 failed`, limit, ' MB'), { median: smallPeak, range: minMax([s1.peakRssMB, s2.peakRssMB]), pairs: '2 runs', statistic: 'median of the peak RSS of 2 runs (no interval)' }, `two runs of ${small} requests, before and after the ${k(large)} run: ${s1.peakRssMB} and ${s2.peakRssMB} MB; failed ${s1.failed + s2.failed}.`, state(smallPeak <= limit && clean(s1) && clean(s2))),
      measured(spec('5b', `Memory: the probe's peak RSS, ${k(large)} non-keep-alive /pid requests`, `≤ ${limit} MB, 0 failed`, limit, ' MB'), { median: big.peakRssMB, range: null, pairs: '1 run', statistic: one }, `${big.ok} ok, ${big.failed} failed, ${big.portBackoffs} EADDRNOTAVAIL back-offs${big.notices.length ? ` (notice: "${big.notices[0]}")` : ''}, ${r0(big.rps)} req/s over ${r0(big.durationMs / 1000)} s.`, state(big.peakRssMB <= limit && clean(big))),
      measured(spec('5c', `Memory: peak RSS growth ${k(small)} → ${k(large)}`, '≤ 10%', 10, '%'), { median: growth, range: minMax([s1, s2].map((m) => (big.peakRssMB / m.peakRssMB - 1) * 100)), pairs: `${k(large)} vs 2 runs`, statistic: `one ${k(large)} run over the median of 2 ${k(small)} runs (no interval)` }, `peak RSS at ${k(large)} over the median peak at ${k(small)}, minus 1 (min–max: against each ${k(small)} run).`, state(growth <= 10)),
      // In megabytes, not percent: the same goal on every line, whatever its baseline (62 MB on Node 20, 83 MB on 24).
      measured(spec('5d', `Memory: what --report adds to the peak RSS at ${k(large)} requests (the timelines, then the HTML)`, '≤ 10 MB', 10, ' MB'), { median: withReportMB, range: null, pairs: '1 run each', statistic: 'difference of two single runs, MB (no interval)' }, `peak RSS ${bigReport.peakRssMB} MB with --report (a ${r0(bigReport.reportBytes / 1024)} KB page, ${bigReport.failed} failed) vs ${big.peakRssMB} MB without, the runs one after the other.`, state(withReportMB <= 10 && clean(bigReport))),
    ];
  },
};
