import type { ChalkInstance } from 'chalk';
import type { FleetComparison, FleetDocument, FleetInfo, FleetResult } from '../fleet/fleet.js';
import { renderBalancerTable } from './balancer-table.js';
import { renderBrowserReport } from './browser-report.js';
import { renderProbeReport } from './probe-report.js';
import { formatMs, makeTable } from './style.js';

/** "nginx 1.22.1 (L7, http proxy)" and what it does with connections, for the fleet's first line. */
export function balancerLine(fleet: FleetInfo): { name: string; detail: string } {
  const { lb } = fleet;
  const age = fleet.maxConnectionAgeMs === null ? '' : `, instances end connections after ${formatMs(fleet.maxConnectionAgeMs)}`;
  if (lb.layer === 'l4') {
    const tls = lb.protocol === 'h2' ? ': the hosts terminate TLS and HTTP/2' : '';
    return { name: `nginx ${lb.version} (L4, stream proxy)`, detail: `${lb.balance}, a host per client connection, TCP passed through${tls}${age}` };
  }
  const reuse = lb.keepalive > 0 ? `upstream keepalive ${lb.keepalive}: connections to the instances are reused` : 'a new connection to an instance per request';
  return { name: `nginx ${lb.version}${lb.layer === 'l7' ? ' (L7, http proxy)' : ''}`, detail: `${lb.balance}, ${reuse}${age}` };
}

function fleetHeader(result: FleetResult, c: ChalkInstance): string {
  const { hosts, lb } = result.fleet;
  const { name, detail } = balancerLine(result.fleet);
  const front = lb.protocol === 'h2' ? 'https (HTTP/2) ' : '';
  const lines = [c.bold(`cluster-demo fleet: ${hosts.length} hosts behind ${name} on ${front}127.0.0.1:${lb.port}`) + c.dim(` (${detail})`)];
  for (const h of hosts) lines.push(c.dim(`  ${h.name}  ${h.address}:${h.port}  primary ${h.primaryPid}  workers ${h.workerPids.join(', ')}`));
  return lines.join('\n');
}

/** One balancer's run: who is behind it, the probe's report through it, what it did with the connections; pure. */
function renderFleetRun(result: FleetResult, c: ChalkInstance): string {
  const { lb } = result.fleet;
  let report = `${fleetHeader(result, c)}\n\n${renderProbeReport(result, c)}`;
  // The browser's effect one level down, said only when the figures show it.
  const uneven = result.routes.filter((r) => r.allWorkersServed === false || (r.fairness.maxMinRatio ?? Infinity) > 2);
  if (lb.keepalive > 0 && uneven.length > 0) {
    report += `\n${c.dim(`nginx reused its connections to the instances (upstream keepalive ${lb.keepalive}), so each instance's cluster saw few`)}`;
    const hostsEven = uneven.every((r) => r.fairness.hosts.jain >= 0.95);
    report += `\n${c.dim(`connections, and it balances connections, not requests${hostsEven ? ': the hosts shared evenly, the workers within a host did not' : ''}.`)}`;
  }
  if (result.browser) report += `\n\n${c.bold(`The browser, through ${lb.layer === 'l4' ? 'the L4 balancer' : 'nginx'}`)}\n${renderBrowserReport(result.browser, c)}`;
  return report;
}

function storyLines(results: readonly FleetResult[], c: ChalkInstance): string {
  const verdicts = results.flatMap((r) => [
    `→ ${r.story.verdict}`,
    ...r.story.browser.map((b) => c.dim(`  the browser, ${b.scenario}${b.protocol ? ` (${b.protocol})` : ''}: ${b.connections} connection${b.connections === 1 ? '' : 's'} → ${b.hostsSeen} host${b.hostsSeen === 1 ? '' : 's'}, ${b.pidsSeen} PID${b.pidsSeen === 1 ? '' : 's'}`)),
  ]);
  const title = c.bold('How a balancer meets a client\'s connections') + c.dim(' (last column: measured in this run)');
  return [...verdicts, '', title, renderBalancerTable(results.map((r) => r.story), c)].join('\n');
}

/** One balancer: its run, then what it did and the L4/L7 explanation table; pure. */
export function renderFleetReport(result: FleetResult, c: ChalkInstance): string {
  return `${renderFleetRun(result, c)}\n\n${storyLines([result], c)}`;
}

/** `--lb l4,l7`: each balancer's run, then the two side by side, then the explanation table; pure. */
export function renderFleetComparison(results: readonly FleetResult[], c: ChalkInstance): string {
  const runs = results.map((r) => `${c.bold(`═══ ${r.fleet.lb.layer.toUpperCase()}: ${r.fleet.lb.layer === 'l4' ? 'a connection balancer' : 'a request balancer'} ═══`)}\n${renderFleetRun(r, c)}`);
  return [...runs, `${c.bold('Side by side: the same load through each balancer')}\n${renderSideBySide(results, c)}`, storyLines(results, c)].join('\n\n');
}

export const SIDE_BY_SIDE_HEAD = ['balancer', 'route', 'client connections', 'hosts', 'workers', 'ok', 'failed', 'hosts: max/min share'];

/** One row per balancer and route, as plain text: the terminal table and the --report page both show these. */
export function sideBySideRows(results: readonly FleetResult[]): string[][] {
  return results.flatMap((r) =>
    r.routes.map((route) => {
      const k = r.story.clientConnections;
      const ratio = route.fairness.hosts.maxMinRatio;
      return [
        r.fleet.lb.layer === 'l4' ? 'L4 (stream)' : 'L7 (http)',
        route.path,
        k === null ? 'one per request' : String(k),
        `${route.hostsSeen} of ${r.story.hostsExpected}`,
        `${route.workersSeen} of ${r.story.workersExpected}`,
        String(route.ok),
        String(route.failed),
        ratio === null ? '∞' : ratio.toFixed(2),
      ];
    }),
  );
}

export function renderSideBySide(results: readonly FleetResult[], c: ChalkInstance): string {
  const table = makeTable(SIDE_BY_SIDE_HEAD, ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'], c);
  for (const [balancer, ...cells] of sideBySideRows(results)) {
    const failed = cells[5]!;
    table.push([c.bold(balancer!), ...cells.slice(0, 5), failed === '0' ? failed : c.red(failed), cells[6]!]);
  }
  return table.toString();
}

/** The --json document: one balancer's result, or with several `{ kind: 'fleet-comparison', balancers }`. */
export function renderFleetJson(results: readonly FleetResult[]): string {
  const doc: FleetDocument = results.length === 1 ? results[0]! : ({ kind: 'fleet-comparison', balancers: [...results] } satisfies FleetComparison);
  return JSON.stringify(doc, null, 2);
}
