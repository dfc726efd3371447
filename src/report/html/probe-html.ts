/**
 * `probe --report` (and the route sections `fleet --report` shares, html/fleet-html.ts): per route, who answered (host → primary → worker under a balancer),
 * latency per worker, and responses per second over time per worker with deaths, replacements and reload steps
 * marked. Pure: (result, context) → one HTML file.
 */
import { Chalk } from 'chalk';
import type { RouteReport } from '../../load/summary.js';
import type { ProbeResult } from '../../probe/run.js';
import { hostVerdict, renderCountMismatches, renderProbeReport, routeVerdict, serverCountCell } from '../probe-report.js';
import { formatMs, formatMsOrDash, formatPercent } from '../style.js';
import { dataTable, figure, renderPage, type ReportContext, type ReportSection } from './page.js';
import { barChart, esc, lineChart, type BarRow, type Mark, type Series } from './svg.js';

const plain = new Chalk({ level: 0 });
const count = (n: number) => Math.round(n).toLocaleString('en-US');

type Worker = RouteReport['workers'][number];

function workerLabel(w: Worker, grouped: boolean): string {
  if (w.pid === null) return 'unknown';
  return grouped ? `  PID ${w.pid}` : `PID ${w.pid}`;
}

/** One bar per worker; under a balancer (several hosts or primaries), each host's bar first, its workers under it. */
export function workerBars(route: RouteReport): BarRow[] {
  const grouped = new Set(route.workers.filter((w) => w.pid !== null).map((w) => `${w.host}|${w.primaryPid}`)).size > 1;
  const row = (w: Worker): BarRow => ({
    label: workerLabel(w, grouped),
    value: w.requests,
    text: `${count(w.requests)} (${formatPercent(w.share)})`,
    data: { pid: w.pid ?? 'unknown', requests: w.requests, host: w.host ?? '' },
  });
  if (!grouped) return route.workers.map(row);
  return route.hosts.flatMap((h) => [
    { label: h.host ?? 'unknown host', value: h.requests, text: `${count(h.requests)} (${formatPercent(h.share)})`, heading: true, data: { host: h.host ?? '' } },
    ...route.workers.filter((w) => w.host === h.host).map(row),
  ]);
}

/** Deaths (†), replacements listening (+) and reload steps (↻), on the route's own time axis. */
export function timelineMarks(result: ProbeResult, route: RouteReport): Mark[] {
  const offset = result.startedAt - route.timeline.startedAt;
  const marks: Mark[] = [];
  for (const d of result.chaos?.deaths ?? []) {
    marks.push({ atMs: offset + d.atMs, label: `worker ${d.pid} killed (${d.cause})`, kind: 'death' });
    if (d.replacementPid !== null && d.replacementMs !== null) marks.push({ atMs: offset + d.atMs + d.replacementMs, label: `replacement ${d.replacementPid} listening`, kind: 'start' });
  }
  for (const s of result.reload?.steps ?? []) marks.push({ atMs: offset + s.atMs, label: `reload: ${s.oldPid} replaced by ${s.newPid}`, kind: 'reload' });
  const end = route.timeline.bucketMs * Math.max(1, ...route.timeline.workers.map((w) => w.counts.length));
  return marks.filter((m) => m.atMs >= 0 && m.atMs <= end);
}

export function routeSection(result: ProbeResult, route: RouteReport): ReportSection {
  const perSecond = 1000 / route.timeline.bucketMs;
  // A worker forked during the run (a replacement) starts at its first response, not at zero before it existed.
  const series: Series[] = route.timeline.workers.map((w) => {
    const first = Math.max(0, w.counts.findIndex((n) => n > 0));
    return { name: w.pid === null ? 'unknown' : `${w.host && route.hosts.length > 1 ? `${w.host} ` : ''}${w.pid}`, values: w.counts.slice(first).map((n) => n * perSecond), offset: first };
  });
  if (route.timeline.failed.some((n) => n > 0)) series.push({ name: 'failed', values: route.timeline.failed.map((n) => n * perSecond) });
  const latencyRows = route.workers.map((w) => [esc(w.pid === null ? 'unknown' : `${w.host && route.hosts.length > 1 ? `${w.host} › ` : ''}${w.pid}`), esc(count(w.requests)), esc(serverCountCell(result, route, w)), esc(formatMsOrDash(w.latencyMs.p50)), esc(formatMsOrDash(w.latencyMs.p99))]);
  const html = [
    `<p>${esc(`${count(route.requests)} requests · ${count(route.ok)} ok · ${count(route.failed)} failed · ${count(route.rps)} req/s · ${route.protocol} · p50 ${formatMs(route.latencyMs.p50)} · p99 ${formatMs(route.latencyMs.p99)}`)}</p>`,
    '<div class="pair">',
    figure(barChart(workerBars(route), `responses per worker on ${route.path}`), 'Responses per worker (hosts in bold above their workers when a balancer spread them).'),
    figure(lineChart(series, route.timeline.bucketMs, timelineMarks(result, route), `responses per second per worker on ${route.path}`, 'req/s'), `Responses per second per worker, counted in ${route.timeline.bucketMs} ms buckets. † a worker killed, + its replacement listening, ↻ a reload step.`),
    '</div>',
    dataTable(['worker', 'requests', 'server counted', 'p50', 'p99'], latencyRows, [false, true, true, true, true]),
    figure(barChart(route.workers.map((w) => ({ label: w.pid === null ? 'unknown' : `PID ${w.pid}`, value: w.latencyMs.p99 ?? 0, text: w.latencyMs.p99 === null ? 'no responses' : `p99 ${formatMs(w.latencyMs.p99)}`, title: `PID ${w.pid}: p50 ${formatMsOrDash(w.latencyMs.p50)}, p99 ${formatMsOrDash(w.latencyMs.p99)}` })), `p99 latency per worker on ${route.path}`), 'p99 latency per worker (p50 in the table above).', true),
  ];
  return { title: `GET ${route.path}`, html: html.join('\n') };
}

export function probeVerdicts(result: ProbeResult): Array<{ ok: boolean | null; text: string }> {
  const verdicts: Array<{ ok: boolean | null; text: string }> = result.routes.flatMap((route) => [hostVerdict(result, route), routeVerdict(result, route)].flatMap((v) => (v ? [{ ok: v.ok, text: `${route.route}: ${v.text}` }] : [])));
  // As the terminal says it (with why, where the run shows a reason); a warning, not a failed check.
  for (const line of renderCountMismatches(result, plain)) verdicts.push({ ok: null, text: line });
  if (result.chaos) verdicts.push({ ok: null, text: `chaos: ${result.chaos.deaths.length} workers killed, ${result.chaos.deaths.reduce((s, d) => s + d.failedRequests, 0)} requests failed in flight` });
  if (result.reload) verdicts.push({ ok: null, text: `rolling restart in ${formatMs(result.reload.durationMs)}: ${result.reload.replaced.map((r) => `${r.oldPid} → ${r.newPid}`).join(', ')}` });
  return verdicts;
}

export function probeFacts(result: ProbeResult): Array<[string, string]> {
  const connection = result.protocol === 'h2' ? `HTTP/2, ${result.connections} connection(s)` : result.keepAlive ? `keep-alive, ${result.connections} connection(s)` : 'a new connection per request';
  return [
    ['target', result.target],
    ['server', result.inProcess ? `in-process cluster, ${result.workersExpected} workers, policy ${result.policy}` : 'existing server'],
    ['load', `concurrency ${result.concurrency}, ${connection}`],
  ];
}

export function renderProbeHtml(result: ProbeResult, context: ReportContext): string {
  return renderPage({
    title: `cluster-demo probe → ${result.target}`,
    context,
    facts: probeFacts(result),
    verdicts: probeVerdicts(result),
    sections: result.routes.map((route) => routeSection(result, route)),
    json: result,
    terminal: renderProbeReport(result, plain),
  });
}

