/**
 * `browser --report`: a waterfall per scenario, as DevTools draws it (one bar per tab or fetch: asked → sent →
 * headers → done), coloured by connection, the PID written on each bar, so the cache lock's one-at-a-time and
 * the six-connection limit show at a glance. Pure.
 */
import { Chalk } from 'chalk';
import { requestsPerPid } from '../../statistics/per-pid.js';
import type { BrowserResult, BrowserScenarioResult } from '../../browser/experiment.js';
import { measuredMeetRows, protocolName, renderBrowserReport } from '../browser-report.js';
import { formatMs } from '../style.js';
import { dataTable, figure, renderPage, type ReportContext, type ReportSection } from './page.js';
import { esc, waterfall, type WaterfallRow } from './svg.js';

const plain = new Chalk({ level: 0 });

export function waterfallRows(s: BrowserScenarioResult): WaterfallRow[] {
  const unit = s.name === 'fetch-burst' ? 'fetch' : 'tab';
  const severalHosts = new Set(s.requests.flatMap((r) => (r.host ? [r.host] : []))).size > 1;
  return s.requests.map((r) => {
    const askedMs = r.startedMs !== null && r.queuedMs !== null ? Math.max(0, r.startedMs - r.queuedMs) : 0;
    const who = r.pid === null ? 'PID ?' : `${severalHosts && r.host ? `${r.host} › ` : ''}PID ${r.pid}`;
    const conn = r.connectionId === null ? '' : ` · conn ${r.connectionId}`;
    const timing = `asked ${formatMs(askedMs)}, sent ${r.startedMs === null ? '–' : formatMs(r.startedMs)}, headers ${r.respondedMs === null ? '–' : formatMs(r.respondedMs)}, done ${r.endedMs === null ? '–' : formatMs(r.endedMs)}`;
    return {
      label: `${unit} ${r.index}`,
      askedMs,
      sentMs: r.startedMs,
      headersMs: r.respondedMs,
      doneMs: r.endedMs,
      connection: r.connectionId,
      text: r.error ? `${r.error}` : `${who}${conn}`,
      title: `${unit} ${r.index}: ${who}${conn}${r.connectionReused === false ? ' (new)' : ''}, ${protocolName(r.protocol)}; ${timing}`,
    };
  });
}

function scenarioSection(s: BrowserScenarioResult): ReportSection {
  const conns = s.connections.length;
  const caption = `${protocolName(s.protocol)} · ${conns} connection${conns === 1 ? '' : 's'} (one colour each) · a dotted line: waiting in the browser; light: the server working; solid: the response`;
  const perPid = requestsPerPid(s.requests).map((p) => `PID ${p.pid ?? 'unknown'} ×${p.requests}`).join(' · ');
  return { title: `${s.name} · ${protocolName(s.protocol)}`, html: `${figure(waterfall(waterfallRows(s), `waterfall of ${s.name}`), caption)}<p class="pids">${esc(perPid || 'no PID answered')}</p><p class="section-verdict">${esc(s.verdict)}</p>` };
}

export function browserVerdicts(result: BrowserResult): Array<{ ok: boolean | null; text: string }> {
  const verdicts = result.scenarios.map((s) => ({ ok: s.failed > 0 ? false : null, text: s.verdict }));
  if (result.conclusion) verdicts.push({ ok: null, text: result.conclusion });
  return verdicts;
}

export function browserSections(result: BrowserResult): ReportSection[] {
  const meet = measuredMeetRows(result.scenarios).map((r) => [esc(r.protocol), esc(r.sends), esc(r.over), esc(r.spreads), esc(r.meets)]);
  return [
    ...result.scenarios.map(scenarioSection),
    { title: 'How a browser meets the cluster (measured in this run)', html: dataTable(['', 'the browser sends', 'over', 'spread by', 'measured'], meet) },
  ];
}

export function renderBrowserHtml(result: BrowserResult, context: ReportContext): string {
  return renderPage({
    title: `cluster-demo browser → ${result.target}`,
    context,
    facts: [
      ['target', result.target],
      ['server', result.inProcess ? `in-process cluster, ${result.workers} workers, policy ${result.policy}, ${result.protocols.map(protocolName).join(' and ')}` : 'existing server'],
      ['browser', `${result.browser.name} ${result.browser.version}${result.browser.headless ? ', headless' : ''}`],
    ],
    verdicts: browserVerdicts(result),
    sections: browserSections(result),
    json: result,
    terminal: renderBrowserReport(result, plain),
  });
}
