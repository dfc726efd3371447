/**
 * `serve` in a terminal: on a TTY, the workers' table redrawn in place every second (log lines print above it);
 * elsewhere (a pipe, a file, --no-live) the log as lines, plus one summary line per minute at most, and only
 * when something was served. Rendering is report/serve-live.ts; this only schedules and writes.
 */
import type { ChalkInstance } from 'chalk';
import { ratesBetween, renderServeLive, renderServeSummary } from '../report/serve-live.js';
import type { RunningCluster } from '../cluster/primary.js';
import type { ClusterStatsDoc } from '../cluster/counts/document.js';
import { serveLogLine } from '../cluster/serve-log.js';

export const LIVE_INTERVAL_MS = 1_000;
export const SUMMARY_INTERVAL_MS = 60_000;
/** The live table's req/s are over this window. */
const RATE_WINDOW_MS = 5_000;

export interface ServeView {
  /** A log line: printed above the live table, or as it is. */
  line(text: string): void;
  stop(): void;
}

export interface ServeViewOptions {
  /** Redraw the table in place (a TTY, --live). */
  live: boolean;
  /** With the JSON log, the summary is a JSON line too. */
  json: boolean;
  dashboardUrl: string | null;
  c: ChalkInstance;
  write(text: string): void;
}

export function startServeView(cluster: RunningCluster, options: ServeViewOptions): ServeView {
  if (cluster.statsSnapshot() === null) return { line: (text) => options.write(`${text}\n`), stop: () => undefined };
  return options.live ? liveTable(cluster, options) : summaries(cluster, options);
}

function liveTable(cluster: RunningCluster, options: ServeViewOptions): ServeView {
  const history: ClusterStatsDoc[] = [];
  let drawn = 0;
  let latest = '';
  const erase = () => drawn > 0 && options.write(`\x1b[${drawn}A\r\x1b[0J`);
  const show = () => {
    erase();
    options.write(`${latest}\n`);
    drawn = latest.split('\n').length;
  };
  // Someone watches: every second the workers are asked for their counts and gauges (idle ones send nothing).
  let fetching = false;
  let stopped = false;
  const refresh = async () => {
    if (fetching || stopped) return;
    fetching = true;
    const doc = await cluster.stats().finally(() => (fetching = false));
    if (!doc || stopped) return;
    history.push(doc);
    while (history.length > 2 && doc.uptimeMs - history[0]!.uptimeMs > RATE_WINDOW_MS) history.shift();
    latest = renderServeLive(doc, ratesBetween(history.length > 1 ? history[0]! : null, doc), options.c, options.dashboardUrl);
    show();
  };
  void refresh();
  const timer = setInterval(() => void refresh(), LIVE_INTERVAL_MS);
  timer.unref();
  return {
    line(text) {
      erase();
      drawn = 0;
      options.write(`${text}\n`);
      if (latest) show();
    },
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

function summaries(cluster: RunningCluster, options: ServeViewOptions): ServeView {
  let previous = cluster.statsSnapshot();
  const timer = setInterval(() => {
    const doc = cluster.statsSnapshot();
    if (!doc || doc.totals.requests === previous?.totals.requests) return;
    if (options.json) {
      const workers = doc.workers.filter((w) => w.state !== 'exited').map((w) => ({ pid: w.pid, requests: w.requests }));
      options.write(`${serveLogLine({ at: Date.now(), type: 'summary', requests: doc.totals.requests, workers })}\n`);
    } else {
      options.write(`${renderServeSummary(doc, previous, SUMMARY_INTERVAL_MS)}\n`);
    }
    previous = doc;
  }, SUMMARY_INTERVAL_MS);
  timer.unref();
  return { line: (text) => options.write(`${text}\n`), stop: () => clearInterval(timer) };
}
