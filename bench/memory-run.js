#!/usr/bin/env node
/**
 * The probe engine's memory under a long non-keep-alive run, in a process of its own so that nothing else
 * (the bench's other rows, the servers) is in the RSS it reports.
 *
 *   node bench/memory-run.js <requests> [url]
 *
 * Without a url it starts `cluster-demo serve --port 0 --workers 2` itself (and stops it). Samples
 * process.memoryUsage().rss every 100 ms while runLoad runs GET /pid at concurrency 50, each request on a
 * new connection. Prints one JSON line on stdout: peak RSS, ok/failed counts, errors by cause, and how often
 * the engine had to wait for free local ports (EADDRNOTAVAIL). Exit 0 when every request succeeded.
 */
import { runLoad } from '../dist/load/engine.js';
import { keepGeneratorHeapSmall } from '../dist/load/heap.js';
import { summarizeRoute } from '../dist/load/summary.js';
import { cliEntryPath, spawnServer } from '../dist/server/spawn.js';

// The same heap setting as the CLI process that runs `probe` (src/load/heap.ts, called in src/cli.ts).
keepGeneratorHeapSmall();

const MB = 1024 * 1024;
const requests = Number(process.argv[2]);
if (!Number.isSafeInteger(requests) || requests < 1) {
  console.error('usage: node bench/memory-run.js <requests> [url]');
  process.exit(2);
}

let server;
let stopping;
const stopServer = () => (stopping ??= server ? server.stop('SIGTERM', 10_000) : Promise.resolve());
process.once('SIGTERM', () => void stopServer().finally(() => process.exit(143)));
process.once('SIGINT', () => void stopServer().finally(() => process.exit(130)));

try {
  let url = process.argv[3];
  if (!url) {
    server = await spawnServer(cliEntryPath(), ['serve', '--port', '0', '--workers', '2', '--log', 'json']);
    url = server.url;
  }
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  let peakHeap = process.memoryUsage().heapUsed;
  let samples = 0;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    samples++;
    if (usage.rss > peakRss) peakRss = usage.rss;
    if (usage.heapUsed > peakHeap) peakHeap = usage.heapUsed;
  }, 100);
  const notices = [];
  const recording = await runLoad(
    { target: new URL(url), path: '/pid', concurrency: 50, requests, keepAlive: false, timeoutMs: 10_000, retries: 0 },
    { onNotice: (line) => notices.push(line) },
  );
  clearInterval(sampler);
  const endRss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, endRss);
  const report = summarizeRoute('/pid', recording, null);
  const result = {
    requests,
    completed: report.requests,
    ok: report.ok,
    failed: report.failed,
    errors: report.errors,
    portBackoffs: report.portBackoffs,
    notices,
    workersSeen: report.workersSeen,
    rps: report.rps,
    durationMs: report.durationMs,
    rssStartMB: Math.round((startRss / MB) * 10) / 10,
    rssPeakMB: Math.round((peakRss / MB) * 10) / 10,
    rssEndMB: Math.round((endRss / MB) * 10) / 10,
    heapPeakMB: Math.round((peakHeap / MB) * 10) / 10,
    samples,
  };
  console.log(JSON.stringify(result));
  process.exitCode = result.failed === 0 && result.completed === requests ? 0 : 1;
} catch (err) {
  console.error(`memory-run: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await stopServer();
}
