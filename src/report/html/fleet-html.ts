/**
 * `fleet --report`: the hosts behind nginx, then the probe's route sections (host → primary → worker) and, when
 * the fleet ran the browser scenarios through nginx, theirs. Pure: (result, context) → one HTML file.
 */
import { Chalk } from 'chalk';
import type { FleetResult } from '../../fleet/fleet.js';
import { renderFleetReport } from '../fleet-report.js';
import { browserSections, browserVerdicts } from './browser-html.js';
import { dataTable, renderPage, type ReportContext, type ReportSection } from './page.js';
import { probeFacts, probeVerdicts, routeSection } from './probe-html.js';
import { esc } from './svg.js';

const plain = new Chalk({ level: 0 });

export function renderFleetHtml(result: FleetResult, context: ReportContext): string {
  const { hosts, lb } = result.fleet;
  const hostRows = hosts.map((h) => [esc(h.name), esc(`${h.address}:${h.port}`), esc(String(h.primaryPid)), esc(h.workerPids.join(', '))]);
  const fleetSection: ReportSection = {
    title: `${hosts.length} hosts behind nginx ${lb.version}`,
    html: `<p>${esc(`${lb.balance}, upstream keepalive ${lb.keepalive}, ${lb.protocol === 'h2' ? 'HTTPS with HTTP/2' : 'HTTP/1.1'} to the clients`)}</p>${dataTable(['host', 'address', 'primary', 'workers'], hostRows)}`,
  };
  const browser = result.browser ? browserSections(result.browser) : [];
  return renderPage({
    title: `cluster-demo fleet: ${hosts.length} hosts behind nginx`,
    context,
    facts: [...probeFacts(result), ['balancer', `nginx ${lb.version} on 127.0.0.1:${lb.port}`]],
    verdicts: [...probeVerdicts(result), ...(result.browser ? browserVerdicts(result.browser) : [])],
    sections: [fleetSection, ...result.routes.map((route) => routeSection(result, route)), ...browser],
    json: result,
    terminal: renderFleetReport(result, plain),
  });
}
