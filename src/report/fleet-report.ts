import type { ChalkInstance } from 'chalk';
import type { FleetResult } from '../fleet/fleet.js';
import { renderBrowserReport } from './browser-report.js';
import { renderProbeReport } from './probe-report.js';

/** The fleet's own lines (who is behind the balancer), then the probe's report through it; pure. */
export function renderFleetReport(result: FleetResult, c: ChalkInstance): string {
  const { hosts, lb } = result.fleet;
  const reuse = lb.keepalive > 0 ? `upstream keepalive ${lb.keepalive}: connections to the instances are reused` : 'a new connection to an instance per request';
  const front = lb.protocol === 'h2' ? 'https (HTTP/2) ' : '';
  const lines = [c.bold(`cluster-demo fleet: ${hosts.length} hosts behind nginx ${lb.version} on ${front}127.0.0.1:${lb.port}`) + c.dim(` (${lb.balance}, ${reuse})`)];
  for (const h of hosts) lines.push(c.dim(`  ${h.name}  ${h.address}:${h.port}  primary ${h.primaryPid}  workers ${h.workerPids.join(', ')}`));
  let report = `${lines.join('\n')}\n\n${renderProbeReport(result, c)}`;
  // The browser's effect one level down, said only when the figures show it.
  const uneven = result.routes.filter((r) => r.allWorkersServed === false || (r.fairness.maxMinRatio ?? Infinity) > 2);
  if (lb.keepalive > 0 && uneven.length > 0) {
    report += `\n${c.dim(`nginx reused its connections to the instances (upstream keepalive ${lb.keepalive}), so each instance's cluster saw few`)}`;
    const hostsEven = uneven.every((r) => r.fairness.hosts.jain >= 0.95);
    report += `\n${c.dim(`connections, and it balances connections, not requests${hostsEven ? ': the hosts shared evenly, the workers within a host did not' : ''}.`)}`;
  }
  if (result.browser) report += `\n\n${c.bold('The browser, through nginx')}\n${renderBrowserReport(result.browser, c)}`;
  return report;
}
