import type { ChalkInstance } from 'chalk';
import type { BrowserRequest } from '../browser/analyze.js';
import { requestsPerPid } from '../statistics/per-pid.js';
import type { BrowserResult, BrowserScenarioResult } from '../browser/experiment.js';
import { renderMeetTable, type MeetRow } from './meet-table.js';
import { formatInt, formatMs, makeTable } from './style.js';

const WHAT: Record<BrowserScenarioResult['name'], (s: BrowserScenarioResult, path: string) => string> = {
  'same-url': (s, path) => `${s.requests.length} tabs open the same ${path} at once`,
  'distinct-urls': (s, path) => `${s.requests.length} tabs open ${path}?tab=1…${s.requests.length} at once`,
  'fetch-burst': (s, path) => `one page fires ${s.requests.length} fetch() of ${path}?fetch=1…${s.requests.length} at once`,
  websocket: (s) => `${s.requests.length} tabs each open a WebSocket to /ws (connection: the client port the worker saw)`,
};

const ms = (value: number | null) => (value === null ? '–' : formatMs(value));

function connectionCell(r: BrowserRequest, c: ChalkInstance): string {
  if (r.connectionId === null) return c.dim('–');
  return `${r.connectionId} ${r.connectionReused ? c.dim('reused') : c.cyan('new')}`;
}

const PROTOCOL_NAMES: Record<string, string> = { 'http/1.1': 'HTTP/1.1', h2: 'HTTP/2', websocket: 'WebSocket' };
export const protocolName = (protocol: string | null) => (protocol === null ? 'no response' : (PROTOCOL_NAMES[protocol] ?? protocol));

/** Several hosts answered (a balancer in front): each PID is shown with its host, as the probe does. */
function severalHosts(s: BrowserScenarioResult): boolean {
  return new Set(s.requests.flatMap((r) => (r.host === null ? [] : [r.host]))).size > 1;
}

function renderScenario(s: BrowserScenarioResult, c: ChalkInstance): string {
  const path = new URL(s.requests[0]?.url ?? 'http://x/').pathname;
  const unit = s.name === 'fetch-burst' ? 'fetch' : 'tab';
  const lines = [c.bold(s.name) + c.dim(`  ·  ${protocolName(s.protocol)}  ·  ${WHAT[s.name](s, path)}`)];
  const hosts = severalHosts(s);
  const table = makeTable([unit, hosts ? 'host › PID' : 'PID', 'queued', 'sent at', 'ended at', 'connection', 'status'], ['right', 'right', 'right', 'right', 'right', 'left', 'left'], c);
  for (const r of s.requests) {
    const pid = r.pid === null ? c.dim('?') : String(r.pid);
    table.push([
      String(r.index),
      hosts && r.host !== null ? `${r.host} › ${pid}` : pid,
      ms(r.queuedMs),
      ms(r.startedMs),
      ms(r.endedMs),
      connectionCell(r, c),
      r.error === null ? String(r.status) : c.red(r.error),
    ]);
  }
  lines.push(table.toString());
  const perPid = requestsPerPid(s.requests).map((p) => `${p.pid ?? 'unknown'} ×${formatInt(p.requests)}`);
  const conns = s.connections.length;
  const order = s.name === 'websocket' ? '' : `  ·  ${s.serialized ? 'one after another' : 'overlapping'}`;
  lines.push(`PIDs: ${perPid.join(' · ') || 'none'}  ·  ${conns} connection${conns === 1 ? '' : 's'}${order}  ·  ${formatMs(s.durationMs)}`);
  lines.push((s.failed > 0 ? c.red('✗ ') : '→ ') + s.verdict);
  return lines.join('\n');
}

/** The whole report as a string; pure (colour comes in through the chalk instance). */
export function renderBrowserReport(result: BrowserResult, c: ChalkInstance): string {
  const where = result.inProcess ? `in-process cluster: ${result.workers} workers, policy ${result.policy}` : 'existing server';
  const browser = `${result.browser.name} ${result.browser.version}${result.browser.headless ? ', headless' : ''}`;
  const parts = [c.bold(`cluster-demo browser → ${result.target}`) + c.dim(` (${where}) · ${browser}`), ''];
  for (const s of result.scenarios) parts.push(renderScenario(s, c), '');
  if (result.conclusion) parts.push(c.bold(result.conclusion), '');
  parts.push(c.bold('How a browser meets the cluster') + c.dim(' (last column: measured in this run)'), renderMeetTable(measuredMeetRows(result.scenarios), c, 'measured here'));
  parts.push(c.dim(`queued: from the page asking to the bytes being sent · times from the DevTools protocol · ${formatMs(result.durationMs)} in all`));
  return parts.join('\n');
}

const SENDS: Record<BrowserScenarioResult['name'], string> = { 'same-url': 'tabs, same URL', 'distinct-urls': 'tabs, distinct URLs', 'fetch-burst': 'parallel fetches', websocket: 'tabs, a WebSocket each' };

/** The explanation table with what this run measured: one row per scenario. Pure. */
export function measuredMeetRows(scenarios: readonly BrowserScenarioResult[]): MeetRow[] {
  return scenarios.map((s) => {
    const k = s.connections.length;
    const p = s.pids.length;
    return {
      protocol: protocolName(s.protocol),
      sends: s.name === 'websocket' ? `${s.requests.length} ${SENDS[s.name]}` : `${s.requests.length} ${SENDS[s.name]}: ${s.serialized ? 'one at a time' : 'at once'}`,
      over: `${k} connection${k === 1 ? '' : 's'}`,
      spreads: p > k ? 'a proxy in front: requests' : 'the cluster: connections',
      meets: `${p} PID${p === 1 ? '' : 's'}${s.failed > 0 ? `, ${s.failed} failed` : ''}`,
    };
  });
}

/** The --json document: the result itself. */
export function renderBrowserJson(result: BrowserResult): string {
  return JSON.stringify(result, null, 2);
}
