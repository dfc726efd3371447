import type { ChalkInstance } from 'chalk';
import type { RouteReport } from '../load/summary.js';
import type { ProbeResult } from '../probe/run.js';
import { describeCause } from '../load/causes.js';
import { GENERATOR_SATURATED } from '../statistics/generator.js';
import { HOW_A_BROWSER_MEETS_THE_CLUSTER, renderMeetTable } from './meet-table.js';
import { bar, formatInt, formatMs, formatMsOrDash, formatPercent, makeTable } from './style.js';

const BAR_WIDTH = 28;

/** The verdict line of one route: whether every expected worker took traffic, and why not. */
export function routeVerdict(result: ProbeResult, route: RouteReport): { ok: boolean; text: string } {
  const seen = route.workersSeen;
  const expected = result.workersExpected;
  if (expected === null) {
    return { ok: seen > 0, text: `${seen} distinct worker${seen === 1 ? '' : 's'} handled traffic (pass --expect-workers <n> to check the count)` };
  }
  if (route.allWorkersServed) return { ok: true, text: seen > expected ? `all ${expected} workers handled traffic (${seen} PIDs: replacements included)` : `all ${expected} workers handled traffic` };
  let text = `only ${seen} of ${expected} workers handled traffic`;
  if (result.protocol === 'h2') {
    const conns = result.connections ?? 1;
    text += ` — HTTP/2: ${conns} connection${conns === 1 ? '' : 's'} carried every request as streams, and the cluster balances connections, not requests, so each connection stays with the worker that accepted it`;
  } else if (result.keepAlive) {
    const conns = result.connections ?? 0;
    text += ` — keep-alive: ${conns} connection${conns === 1 ? '' : 's'} carried every request, and the cluster balances connections, not requests, so each connection stays with the worker that accepted it`;
  }
  return { ok: false, text };
}

/** The host level's verdict (a load balancer in front): null when there is one host and no --expect-hosts. */
export function hostVerdict(result: ProbeResult, route: RouteReport): { ok: boolean; text: string } | null {
  const seen = route.hostsSeen;
  const expected = result.hostsExpected;
  if (expected === null) return seen > 1 ? { ok: true, text: `${seen} hosts handled traffic (pass --expect-hosts <n> to check the count)` } : null;
  if (seen >= expected) return { ok: true, text: `${expected === 1 ? 'the host' : `all ${expected} hosts`} handled traffic${seen > expected ? ` (${seen} seen)` : ''}` };
  return { ok: false, text: `only ${seen} of ${expected} hosts handled traffic` };
}

function pidLabel(worker: RouteReport['workers'][number], result: ProbeResult, c: ChalkInstance): string {
  if (worker.pid === null) return c.dim('unknown');
  let label = String(worker.pid);
  const chaos = result.chaos?.deaths ?? [];
  if (chaos.some((d) => d.pid === worker.pid)) label += ' †';
  else if (chaos.some((d) => d.replacementPid === worker.pid)) label += ' (replacement)';
  else if (result.reload?.replaced.some((r) => r.oldPid === worker.pid)) label += ' (replaced)';
  else if (result.reload?.replaced.some((r) => r.newPid === worker.pid)) label += ' (new)';
  return label;
}

/** What the server itself counted for this worker on this route: '–' where its stats were not read. */
export function serverCountCell(result: ProbeResult, route: RouteReport, worker: RouteReport['workers'][number]): string {
  const counts = result.serverCounts;
  if (!counts || worker.pid === null || !counts.covered.some((c) => c.primaryPid === worker.primaryPid)) return '–';
  const counted = counts.workers.find((w) => w.route === route.route && w.pid === worker.pid && w.primaryPid === worker.primaryPid);
  return formatInt(counted?.requests ?? 0);
}

function workerRow(result: ProbeResult, route: RouteReport, worker: RouteReport['workers'][number], label: string, maxShare: number, c: ChalkInstance): string[] {
  const row = [label, formatInt(worker.requests), formatPercent(worker.share), c.green(bar(worker.share, maxShare, BAR_WIDTH)), formatMsOrDash(worker.latencyMs.p50), formatMsOrDash(worker.latencyMs.p99)];
  if (result.serverCounts) row.splice(2, 0, serverCountCell(result, route, worker));
  return row;
}

/**
 * One row per worker; when more than one host or primary answered (several instances behind a load balancer),
 * a tree: each host's row with its share, then its workers under it.
 */
function renderWorkerTable(result: ProbeResult, route: RouteReport, c: ChalkInstance): string {
  const origins = new Set(route.workers.filter((w) => w.pid !== null).map((w) => `${w.host}|${w.primaryPid}`));
  const grouped = origins.size > 1;
  const counted = result.serverCounts !== null;
  const head = [grouped ? 'host › PID' : 'PID', 'requests', ...(counted ? ['server counted'] : []), 'share', '', 'p50', 'p99'];
  const table = makeTable(head, ['left', 'right', ...(counted ? (['right'] as const) : []), 'right', 'left', 'right', 'right'], c);
  const maxShare = Math.max(0, ...route.workers.map((w) => w.share));
  if (!grouped) {
    for (const worker of route.workers) table.push(workerRow(result, route, worker, pidLabel(worker, result, c), maxShare, c));
  } else {
    const maxHostShare = Math.max(0, ...route.hosts.map((h) => h.share));
    for (const host of route.hosts) {
      const primaries = host.primaryPids.length ? c.dim(` primary ${host.primaryPids.join(', ')}`) : '';
      table.push([c.bold(host.host ?? 'unknown host') + primaries, formatInt(host.requests), ...(counted ? [''] : []), formatPercent(host.share), c.cyan(bar(host.share, maxHostShare, BAR_WIDTH)), '', '']);
      const severalPrimaries = host.primaryPids.length > 1;
      for (const worker of route.workers.filter((w) => w.host === host.host)) {
        const label = `  ${pidLabel(worker, result, c)}${severalPrimaries ? c.dim(` /${worker.primaryPid ?? '?'}`) : ''}`;
        table.push(workerRow(result, route, worker, label, maxShare, c));
      }
    }
  }
  if (route.workers.length === 0) table.push([{ colSpan: head.length, content: c.red('no responses') }]);
  return table.toString();
}

function renderRoute(result: ProbeResult, route: RouteReport, c: ChalkInstance): string {
  const lines: string[] = [];
  const plural = result.connections === 1 ? '' : 's';
  const connMode =
    result.protocol === 'h2' ? `HTTP/2, ${result.connections} connection${plural}, up to ${result.concurrency} streams at once` : result.keepAlive ? `keep-alive, ${result.connections} connection${plural}` : 'a new connection per request';
  lines.push(c.bold(`GET ${route.path}`) + c.dim(`  ·  concurrency ${result.concurrency}  ·  ${connMode}`));
  lines.push(renderWorkerTable(result, route, c));
  const failed = route.failed > 0 ? c.red(`${formatInt(route.failed)} failed`) : '0 failed';
  const causes = Object.entries(route.errors).map(([cause, n]) => `${describeCause(cause)} ×${formatInt(n)}`);
  lines.push(
    `Requests: ${formatInt(route.requests)} · ${formatInt(route.ok)} ok · ${failed}${causes.length ? ` (${causes.join(', ')})` : ''}` +
      (route.retries > 0 ? ` · ${formatInt(route.retries)} retried` : '') +
      (route.goawayRetries > 0 ? ` · ${formatInt(route.goawayRetries)} sent again after a GOAWAY (refused unprocessed)` : '') +
      ` · ${formatInt(route.rps)} req/s`,
  );
  lines.push(`Latency: p50 ${formatMs(route.latencyMs.p50)} · p90 ${formatMs(route.latencyMs.p90)} · p99 ${formatMs(route.latencyMs.p99)} · max ${formatMs(route.latencyMs.max)}`);
  const ratio = route.fairness.maxMinRatio === null ? '∞ (a worker served nothing)' : route.fairness.maxMinRatio.toFixed(2);
  lines.push(`Fairness: Jain's index ${route.fairness.jain.toFixed(3)} (1 = perfectly even) · max/min share ${ratio}`);
  const hosts = hostVerdict(result, route);
  if (hosts) {
    const hostRatio = route.fairness.hosts.maxMinRatio === null ? '∞ (a host served nothing)' : route.fairness.hosts.maxMinRatio.toFixed(2);
    lines.push(`Fairness across hosts: Jain's index ${route.fairness.hosts.jain.toFixed(3)} · max/min share ${hostRatio}`);
  }
  if (route.portBackoffs > 0) lines.push(c.yellow(`Waited ${formatInt(route.portBackoffs)} times for free local ports (EADDRNOTAVAIL)`));
  for (const verdict of [hosts, routeVerdict(result, route)]) {
    if (verdict) lines.push(verdict.ok ? c.green(`✓ ${verdict.text}`) : c.red(`✗ ${verdict.text}`));
  }
  return lines.join('\n');
}

/** The server's counts against the probe's, when they disagree by more than the failures the probe knows of. */
export function renderCountMismatches(result: ProbeResult, c: ChalkInstance): string[] {
  const counts = result.serverCounts;
  if (!counts) return [];
  const deaths = result.chaos?.deaths.length ?? 0;
  return counts.mismatches.map((m) => {
    const more = m.server > m.probe ? `${formatInt(m.server - m.probe)} more than the probe saw` : `${formatInt(m.probe - m.server)} fewer than the probe saw`;
    const why = m.server < m.probe && deaths > 0 ? ': a killed worker cannot send the counts of its last 250 ms' : m.server > m.probe ? ': other clients may be sending to this server too' : '';
    return c.yellow(`warning: on ${m.route} the server counted ${formatInt(m.server)} requests, ${more} (it knows of ${formatInt(m.explained)} failed or retried)${why}`);
  });
}

function renderChaos(result: ProbeResult, c: ChalkInstance): string[] {
  if (!result.chaos) return [];
  const lines = [c.bold(`Chaos: a worker SIGKILLed every ${formatMs(result.chaos.intervalMs)}`)];
  if (result.chaos.deaths.length === 0) lines.push('  no worker died during the run');
  for (const d of result.chaos.deaths) {
    const replacement = d.replacementPid === null ? 'no replacement listening yet' : `replaced by ${d.replacementPid}, listening after ${formatMs(d.replacementMs ?? 0)}`;
    lines.push(`  † ${d.pid} at ${formatMs(d.atMs)}: ${replacement}; ${d.failedRequests} failed request${d.failedRequests === 1 ? '' : 's'} in flight`);
  }
  if (result.chaos.unattributedFailures > 0) lines.push(`  ${result.chaos.unattributedFailures} failed requests not tied to a death`);
  if (result.retries > 0) lines.push(c.dim(`  connection errors were retried up to ${result.retries}× on a new connection`));
  return lines;
}

/** What the probe cost itself, and a warning when it may have measured itself rather than the server. */
export function renderGenerator(result: ProbeResult, c: ChalkInstance): string[] {
  const g = result.generator;
  if (!g || result.routes.length === 0) return [];
  const primary = result.inProcess && result.policy === 'rr' ? ', this cluster\'s primary included (rr: it accepts every connection)' : result.inProcess ? ', this cluster\'s primary included' : '';
  // process.cpuUsage() sums every thread of the process (the main one, the GC's, libuv's pool): more than one core's
  // worth of time fits in a second of wall time.
  const threads = g.coreShare > 1 ? ' (over 100%: the CPU time of all its threads, garbage collector included)' : '';
  const lines = [c.dim(`Generator: ${g.cpuPerRequestUs.toFixed(0)} µs of CPU per request (user ${formatMs(g.cpuUserMs)} + system ${formatMs(g.cpuSystemMs)}), ${formatPercent(g.coreShare)} of one core${threads}${primary}`)];
  if (g.coreShare > GENERATOR_SATURATED) {
    lines.push(c.yellow(`note: the generator used ${formatPercent(g.coreShare)} of a core: these figures may measure the generator, not the server`));
  }
  return lines;
}

/**
 * With reuseport, a worker's socket that closes (restart) or dies (chaos) takes the connections queued on it
 * with it, unless the kernel migrates them: said only when resets were measured (failed or retried).
 */
export function renderMigrateNote(result: ProbeResult, c: ChalkInstance): string[] {
  if (result.policy !== 'reuseport' || result.tcpMigrateReq !== 0 || (!result.chaos && !result.reload)) return [];
  const resets = result.routes.reduce((sum, r) => sum + (r.errors.ECONNRESET ?? 0), 0);
  const retried = result.routes.reduce((sum, r) => sum + r.retries, 0);
  if (resets + retried === 0) return [];
  const seen = [resets > 0 ? `${resets} reset` : '', retried > 0 ? `${retried} retried` : ''].filter(Boolean).join(', ');
  return [
    c.yellow(`note: reuseport with net.ipv4.tcp_migrate_req = 0 (${seen}): the connections queued on a worker's socket are reset when it`),
    c.yellow('closes or dies; sysctl -w net.ipv4.tcp_migrate_req=1 moves them to another worker, --retries 1 sends them again'),
  ];
}

function renderReload(result: ProbeResult, c: ChalkInstance): string[] {
  if (!result.reload) return [];
  const pairs = result.reload.replaced.map((r) => `${r.oldPid} → ${r.newPid}`).join(', ');
  return [c.bold(`Rolling restart during the run (${formatMs(result.reload.durationMs)}): ${pairs}`)];
}

function expecting(result: ProbeResult): string {
  const parts = [result.hostsExpected !== null ? `${result.hostsExpected} host${result.hostsExpected === 1 ? '' : 's'}` : '', result.workersExpected !== null ? `${result.workersExpected} workers` : ''].filter(Boolean);
  return parts.length ? `, expecting ${parts.join(' and ')}` : '';
}

/** Who hands new connections to the workers under each policy (null: a server we did not start). */
export function whoSpreads(policy: ProbeResult['policy']): string {
  switch (policy) {
    case 'rr': return 'the primary hands them to the workers in turn';
    case 'none': return 'the workers accept them from one shared socket';
    case 'reuseport': return 'the kernel deals them out to the workers\' own sockets';
    case 'least-conn': return 'the primary hands each to the worker with the fewest open';
    case 'ip-hash': return 'the primary hands each to the worker its client address hashes to';
    default: return 'the cluster hands out connections';
  }
}

/** The whole probe report as a string; pure (colour comes in through the chalk instance). */
export function renderProbeReport(result: ProbeResult, c: ChalkInstance): string {
  const where = result.inProcess
    ? `in-process cluster: ${result.workersExpected} workers, policy ${result.policy}`
    : `existing server${expecting(result)}`;
  const parts = [c.bold(`cluster-demo probe → ${result.target}`) + c.dim(` (${where})`), ''];
  if (result.interrupted) parts.push(c.yellow('interrupted: the figures cover the requests sent before Ctrl-C'), '');
  for (const route of result.routes) parts.push(renderRoute(result, route, c), '');
  parts.push(...renderReload(result, c), ...renderChaos(result, c), ...renderCountMismatches(result, c), ...renderMigrateNote(result, c), ...renderGenerator(result, c));
  if (!result.keepAlive && result.protocol === 'http/1.1' && result.allWorkersServed) {
    parts.push(c.dim(`Each request used a new TCP connection, and ${whoSpreads(result.policy)}, so they spread over the workers.`));
    parts.push(c.dim('A browser does not open a connection per request; what it does instead (see it: cluster-demo browser --protocols h1,h2):'));
    parts.push(renderMeetTable(HOW_A_BROWSER_MEETS_THE_CLUSTER, c));
  }
  return parts.join('\n').replace(/\n+$/, '');
}

/** The --json document: the result itself (already plain data: null, never Infinity). */
export function renderProbeJson(result: ProbeResult): string {
  return JSON.stringify(result, null, 2);
}
