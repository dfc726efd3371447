import type { ChalkInstance } from 'chalk';
import type { PoliciesResult, PolicyWorkload } from '../compare/policies.js';
import { formatInt, formatMs, formatPercent, makeTable } from './style.js';
import { workloadName } from './compare-report.js';

const HEADS: Record<string, string> = { single: 'single process', rr: 'rr', none: 'none', reuseport: 'reuseport' };

function renderWorkload(w: PolicyWorkload, c: ChalkInstance): string {
  const results = w.results;
  const table = makeTable(['', ...results.map((r) => HEADS[r.policy] ?? r.policy)], ['left', ...results.map(() => 'right' as const)], c);
  const range = (r: PolicyWorkload['results'][number]) => (r.runsRps.length > 1 ? c.dim(` (${formatInt(r.rpsRange.min)}–${formatInt(r.rpsRange.max)})`) : '');
  table.push(['req/s (median)', ...results.map((r) => formatInt(r.rps) + range(r))]);
  table.push(['÷ single process', ...results.map((r) => c.bold(`${r.vsSingle.toFixed(2)}×`))]);
  table.push(['95% interval', ...results.map((r) => (r.vsSingleInterval ? `${r.vsSingleInterval.low.toFixed(2)}–${r.vsSingleInterval.high.toFixed(2)}×` : '–'))]);
  table.push(['p50', ...results.map((r) => formatMs(r.latencyMs.p50))]);
  table.push(['p99', ...results.map((r) => formatMs(r.latencyMs.p99))]);
  table.push(['failed', ...results.map((r) => formatInt(r.failed))]);
  table.push(['workers seen', ...results.map((r) => String(r.workersSeen))]);
  table.push(["Jain's index", ...results.map((r) => (r.policy === 'single' ? '–' : r.fairness.jain.toFixed(3)))]);
  table.push(['generator CPU/req', ...results.map((r) => `${r.generator.cpuPerRequestUs.toFixed(0)} µs`)]);
  table.push(['generator core', ...results.map((r) => formatPercent(r.generator.coreShare))]);
  return [c.bold(workloadName(w)) + c.dim(` · ${w.description}`), table.toString(), w.verdict].join('\n');
}

/** The policies comparison as a string; pure. */
export function renderPoliciesReport(result: PoliciesResult, c: ChalkInstance): string {
  const head = [
    c.bold(`cluster-demo compare: one process vs the cluster of ${result.workers} under each scheduling policy${result.app ? ` · your app ${result.app}` : ''}`),
    c.dim(`${result.cores} cores · ${result.runs} run${result.runs === 1 ? '' : 's'} each, order rotated every run, medians (min–max) · concurrency ${result.concurrency} · the generator shares the cores`),
  ];
  for (const s of result.skipped) head.push(c.yellow(`note: ${s.policy} not run: ${s.reason}`));
  const saturated = result.workloads.some((w) => w.results.some((r) => r.generator.coreShare > 0.9));
  const tail = saturated ? [c.yellow('note: the generator used more than 90% of a core in some runs: there the figures may measure the generator, not the server')] : [];
  return [head.join('\n'), ...result.workloads.map((w) => renderWorkload(w, c)), ...tail].join('\n\n');
}
