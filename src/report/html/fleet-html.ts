/**
 * `fleet --report`: the hosts behind nginx, then the probe's route sections (host → primary → worker) and, when
 * the fleet ran the browser scenarios through nginx, theirs; with `--lb l4,l7`, each balancer's in turn and the
 * two side by side. Pure: (result, context) → one HTML file.
 */
import { Chalk } from 'chalk';
import type { FleetComparison, FleetResult } from '../../fleet/fleet.js';
import { BALANCER_KINDS, measuredSpread } from '../balancer-table.js';
import { balancerLine, renderFleetComparison, renderFleetReport, SIDE_BY_SIDE_HEAD, sideBySideRows } from '../fleet-report.js';
import { browserSections, browserVerdicts } from './browser-html.js';
import { dataTable, renderPage, type ReportContext, type ReportSection } from './page.js';
import { probeFacts, probeVerdicts, routeSection } from './probe-html.js';
import { esc } from './svg.js';

const plain = new Chalk({ level: 0 });

function fleetSection(result: FleetResult, prefix = ''): ReportSection {
  const { hosts, lb } = result.fleet;
  const { name, detail } = balancerLine(result.fleet);
  const hostRows = hosts.map((h) => [esc(h.name), esc(`${h.address}:${h.port}`), esc(String(h.primaryPid)), esc(h.workerPids.join(', '))]);
  return {
    title: `${prefix}${hosts.length} hosts behind ${name}`,
    html: `<p>${esc(`${detail}; ${lb.protocol === 'h2' ? 'HTTPS with HTTP/2' : 'HTTP/1.1'} from the clients`)}</p>${dataTable(['host', 'address', 'primary', 'workers'], hostRows)}<p>${esc(result.story.verdict)}</p>`,
  };
}

/** The L4/L7 explanation table with what this run measured through each balancer. */
function balancerSection(results: readonly FleetResult[]): ReportSection {
  const rows = BALANCER_KINDS.map((kind) => {
    const story = results.find((r) => r.story.layer === kind.layer)?.story;
    return [esc(kind.name), esc(kind.examples), esc(kind.keptConnectionMeets), esc(kind.fix), esc(story ? measuredSpread(story) : `not run (--lb ${kind.layer})`)];
  });
  return { title: "How a balancer meets a client's connections", html: dataTable(['balancer', 'e.g.', 'a kept connection meets', 'to spread it', 'measured here'], rows) };
}

function runSections(result: FleetResult, prefix = ''): ReportSection[] {
  const routes = result.routes.map((route) => {
    const section = routeSection(result, route);
    return { ...section, title: `${prefix}${section.title}` };
  });
  const browser = result.browser ? browserSections(result.browser).map((s) => ({ ...s, title: `${prefix}${s.title}` })) : [];
  return [fleetSection(result, prefix), ...routes, ...browser];
}

function verdicts(result: FleetResult, prefix = ''): Array<{ ok: boolean | null; text: string }> {
  return [...probeVerdicts(result), ...(result.browser ? browserVerdicts(result.browser) : [])].map((v) => ({ ...v, text: `${prefix}${v.text}` }));
}

export function renderFleetHtml(result: FleetResult, context: ReportContext): string {
  const { hosts, lb } = result.fleet;
  return renderPage({
    title: `cluster-demo fleet: ${hosts.length} hosts behind nginx`,
    context,
    facts: [...probeFacts(result), ['balancer', `${balancerLine(result.fleet).name} on 127.0.0.1:${lb.port}`]],
    verdicts: verdicts(result),
    // The L4/L7 table is the comparison page's (--lb l4,l7); here the fleet section's verdict says what was measured.
    sections: runSections(result),
    json: result,
    terminal: renderFleetReport(result, plain),
  });
}

/** `--lb l4,l7 --report`: both balancers' runs on one page, the side-by-side table first. */
export function renderFleetComparisonHtml(results: readonly FleetResult[], context: ReportContext): string {
  const first = results[0]!;
  const label = (r: FleetResult) => `${r.fleet.lb.layer.toUpperCase()}: `;
  const sideRows = sideBySideRows(results).map((row) => row.map(esc));
  const side: ReportSection = { title: 'Side by side: the same load through each balancer', html: `${dataTable(SIDE_BY_SIDE_HEAD, sideRows, [false, false, true, true, true, true, true, true])}${results.map((r) => `<p>${esc(`${label(r)}${r.story.verdict}`)}</p>`).join('')}` };
  const json: FleetComparison = { kind: 'fleet-comparison', balancers: [...results] };
  return renderPage({
    title: `cluster-demo fleet: ${first.fleet.hosts.length} hosts behind an L4 and an L7 balancer`,
    context,
    facts: [...probeFacts(first), ['balancers', results.map((r) => balancerLine(r.fleet).name).join(' · ')]],
    verdicts: results.flatMap((r) => verdicts(r, label(r))),
    sections: [side, balancerSection(results), ...results.flatMap((r) => runSections(r, label(r)))],
    json,
    terminal: renderFleetComparison(results, plain),
  });
}
