import type { ChalkInstance } from 'chalk';
import { requestsPerPid, type BrowserRequest } from '../browser/analyze.js';
import type { BrowserResult, BrowserScenarioResult } from '../browser/experiment.js';
import { formatInt, formatMs, makeTable } from './style.js';

const WHAT: Record<BrowserScenarioResult['name'], (s: BrowserScenarioResult, path: string) => string> = {
  'same-url': (s, path) => `${s.requests.length} tabs open the same ${path} at once`,
  'distinct-urls': (s, path) => `${s.requests.length} tabs open ${path}?tab=1…${s.requests.length} at once`,
  'fetch-burst': (s, path) => `one page fires ${s.requests.length} fetch() of ${path}?fetch=1…${s.requests.length} at once`,
};

const ms = (value: number | null) => (value === null ? '–' : formatMs(value));

function connectionCell(r: BrowserRequest, c: ChalkInstance): string {
  if (r.connectionId === null) return c.dim('–');
  return `${r.connectionId} ${r.connectionReused ? c.dim('reused') : c.cyan('new')}`;
}

function renderScenario(s: BrowserScenarioResult, c: ChalkInstance): string {
  const path = new URL(s.requests[0]?.url ?? 'http://x/').pathname;
  const unit = s.name === 'fetch-burst' ? 'fetch' : 'tab';
  const lines = [c.bold(s.name) + c.dim(`  ·  ${WHAT[s.name](s, path)}`)];
  const table = makeTable([unit, 'PID', 'queued', 'sent at', 'ended at', 'connection', 'status'], ['right', 'right', 'right', 'right', 'right', 'left', 'left'], c);
  for (const r of s.requests) {
    table.push([
      String(r.index),
      r.pid === null ? c.dim('?') : String(r.pid),
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
  lines.push(`PIDs: ${perPid.join(' · ') || 'none'}  ·  ${conns} connection${conns === 1 ? '' : 's'}  ·  ${s.serialized ? 'one after another' : 'overlapping'}  ·  ${formatMs(s.durationMs)}`);
  lines.push((s.failed > 0 ? c.red('✗ ') : '→ ') + s.verdict);
  return lines.join('\n');
}

/** The whole report as a string; pure (colour comes in through the chalk instance). */
export function renderBrowserReport(result: BrowserResult, c: ChalkInstance): string {
  const where = result.inProcess ? `in-process cluster: ${result.workers} workers, policy ${result.policy}` : 'existing server';
  const browser = `${result.browser.name} ${result.browser.version}${result.browser.headless ? ', headless' : ''}`;
  const parts = [c.bold(`cluster-demo browser → ${result.target}`) + c.dim(` (${where}) · ${browser}`), ''];
  for (const s of result.scenarios) parts.push(renderScenario(s, c), '');
  if (result.conclusion) parts.push(c.bold(result.conclusion));
  parts.push(c.dim(`queued: from the page asking to the bytes being sent · times from the DevTools protocol · ${formatMs(result.durationMs)} in all`));
  return parts.join('\n');
}

/** The --json document: the result itself. */
export function renderBrowserJson(result: BrowserResult): string {
  return JSON.stringify(result, null, 2);
}
