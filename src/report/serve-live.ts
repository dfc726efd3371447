/**
 * What `serve` shows about its workers, from the primary's stats document: the live table on a TTY (redrawn in
 * place, like `pm2 monit`) and the once-a-minute summary line elsewhere. Pure; the rates come in from the
 * caller, which keeps the previous documents.
 */
import type { ChalkInstance } from 'chalk';
import type { ClusterStatsDoc, WorkerStats } from '../cluster/counts/document.js';
import { bar, formatInt, formatPercent, makeTable } from './style.js';

const BAR_WIDTH = 16;

function state(w: WorkerStats): string {
  if (w.state === 'exited') return `exited (${w.exit?.signal ?? `code ${w.exit?.code}`})`;
  // A worker computing a long request cannot report: say so rather than show stale figures as current.
  if (w.state === 'listening' && w.reportAgeMs !== null && w.reportAgeMs > 1500) return `busy ${(w.reportAgeMs / 1000).toFixed(0)} s`;
  return w.state;
}

function uptime(ms: number): string {
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 1000).toFixed(0)} s`;
}

/** The live table: one row per live worker (and the most recent exits, dimmed), then the totals. */
export function renderServeLive(doc: ClusterStatsDoc, ratePerPid: ReadonlyMap<number, number>, c: ChalkInstance, dashboardUrl: string | null): string {
  const live = doc.workers.filter((w) => w.state !== 'exited');
  const exited = doc.workers.filter((w) => w.state === 'exited').slice(0, 3);
  const liveTotal = live.reduce((sum, w) => sum + w.requests, 0);
  const max = Math.max(0, ...live.map((w) => w.requests));
  const table = makeTable(['PID', 'state', 'requests', '', 'req/s', 'share', 'conns', 'in flight', 'ELU', 'RSS', 'restarts'], ['right', 'left', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'], c);
  for (const w of live) {
    table.push([
      String(w.pid), state(w), formatInt(w.requests), c.green(bar(w.requests, max, BAR_WIDTH).padEnd(BAR_WIDTH)), formatInt(ratePerPid.get(w.pid) ?? 0),
      liveTotal > 0 ? formatPercent(w.requests / liveTotal) : '–', formatInt(w.connections), String(w.inFlight), w.elu.toFixed(2),
      `${(w.rssBytes / 1_048_576).toFixed(0)} MB`, String(w.restarts),
    ]);
  }
  for (const w of exited) table.push([c.dim(String(w.pid)), c.dim(state(w)), c.dim(formatInt(w.requests)), '', '', '', c.dim(formatInt(w.connections)), '', '', '', c.dim(String(w.restarts))]);
  const totalRate = [...ratePerPid.values()].reduce((a, b) => a + b, 0);
  const head = `${c.bold(`${doc.hostname} · primary ${doc.primaryPid} · policy ${doc.policy}`)}${c.dim(` · up ${uptime(doc.uptimeMs)}${dashboardUrl ? ` · ${dashboardUrl}` : ''}`)}`;
  const foot = c.dim(`total ${formatInt(doc.totals.requests)} requests · ${formatInt(totalRate)} req/s now · ${formatInt(doc.totals.connections)} connections · Ctrl-C stops, SIGHUP reloads`);
  return [head, table.toString(), foot].join('\n');
}

/** One line for a log: requests per worker since the previous summary (`since`: that document, or null). */
export function renderServeSummary(doc: ClusterStatsDoc, since: ClusterStatsDoc | null, periodMs: number): string {
  const before = new Map((since?.workers ?? []).map((w) => [w.pid, w.requests]));
  const live = doc.workers.filter((w) => w.state !== 'exited');
  const delta = doc.totals.requests - (since?.totals.requests ?? 0);
  const per = live.map((w) => `${w.pid}: ${formatInt(w.requests - (before.get(w.pid) ?? 0))}`).join(', ');
  return `Requests in the last ${uptime(periodMs)}: ${formatInt(delta)} (${per}) · ${formatInt(doc.totals.requests)} since start`;
}

/** req/s per PID between two documents (new workers from 0). */
export function ratesBetween(older: ClusterStatsDoc | null, newer: ClusterStatsDoc): Map<number, number> {
  const rates = new Map<number, number>();
  const seconds = older ? (newer.uptimeMs - older.uptimeMs) / 1000 : 0;
  const before = new Map((older?.workers ?? []).map((w) => [w.pid, w.requests]));
  for (const w of newer.workers) if (w.state !== 'exited') rates.set(w.pid, seconds > 0 ? Math.max(0, w.requests - (before.get(w.pid) ?? 0)) / seconds : 0);
  return rates;
}
