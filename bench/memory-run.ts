/**
 * The probe's memory under a long non-keep-alive run, in a process of its own so that nothing else (the
 * bench's other rows, the servers, a TypeScript loader) is in the RSS it reports. It runs the built code
 * (dist/), as `cluster-demo probe` does; Node runs this file by stripping its types (row 5 says how it ran).
 *
 *   node bench/memory-run.ts <requests> <url> [--report]        (Node 23.6+; 22.6+: --experimental-strip-types)
 *
 * Runs the probe (runProbe, GET /pid, concurrency 50, a new connection per request) against url, and with
 * --report also renders and writes its HTML report (then removes it), as `probe --report` does. Samples RSS
 * every 100 ms; prints one JSON line: the peak RSS, ok/failed counts, the ports back-offs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keepGeneratorHeapSmall } from '../dist/load/heap.js';
import { runProbe } from '../dist/probe/run.js';
import { renderProbeHtml } from '../dist/report/html/probe-html.js';

// The same heap setting as the CLI process that runs `probe` (src/load/heap.ts, called in src/cli.ts).
keepGeneratorHeapSmall();

const MB = 1024 * 1024;
const requests = Number(process.argv[2]);
const url = process.argv[3];
const withReport = process.argv.includes('--report');
if (!Number.isSafeInteger(requests) || requests < 1 || !url) {
  console.error('usage: node bench/memory-run.ts <requests> <url> [--report]');
  process.exit(2);
}

const round1 = (bytes: number) => Math.round((bytes / MB) * 10) / 10;
let peakRss = process.memoryUsage().rss;
let peakHeap = process.memoryUsage().heapUsed;
const startRss = peakRss;
const sample = () => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeap = Math.max(peakHeap, usage.heapUsed);
};
const sampler = setInterval(sample, 100);
const notices: string[] = [];
const result = await runProbe(
  { url: new URL(url), workers: 2, sched: 'rr', concurrency: 50, route: 'pid', requests, n: 1000, timeoutMs: 10_000, keepAlive: false, retries: 0, reload: false },
  { onNotice: (line) => notices.push(line) },
);
let reportBytes = 0;
if (withReport) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-memory-'));
  const html = renderProbeHtml(result, { command: `memory-run ${requests} --report`, generatedAt: new Date().toISOString(), node: process.version, cores: os.availableParallelism() });
  reportBytes = Buffer.byteLength(html);
  writeFileSync(path.join(dir, 'report.html'), html);
  sample();
  rmSync(dir, { recursive: true, force: true });
}
clearInterval(sampler);
sample();
const route = result.routes[0]!;
console.log(
  JSON.stringify({
    requests,
    report: withReport,
    reportBytes,
    completed: route.requests,
    ok: route.ok,
    failed: route.failed,
    errors: route.errors,
    portBackoffs: route.portBackoffs,
    notices,
    workersSeen: route.workersSeen,
    rps: route.rps,
    durationMs: route.durationMs,
    rssStartMB: round1(startRss),
    /** The kernel's own peak of this process (getrusage), beside the 100 ms samples. */
    maxRssMB: round1(process.resourceUsage().maxRSS * 1024),
    rssPeakMB: round1(peakRss),
    heapPeakMB: round1(peakHeap),
  }),
);
process.exitCode = route.failed === 0 && route.requests === requests ? 0 : 1;
