/**
 * `compare --report`: the contenders side by side per workload (median req/s bars with min–max whiskers over
 * the runs, p50 and p99), and on the heavy workload the limit line: one process × min(workers, cores). Both
 * comparisons (two contenders; --policies) render through the same charts. Pure.
 */
import { Chalk } from 'chalk';
import type { PoliciesResult } from '../../compare/policies.js';
import type { CompareResult, ContenderSummary } from '../../compare/runner.js';
import { renderCompareReport, workloadName, workloadVerdict } from '../compare-report.js';
import { renderPoliciesReport } from '../policies-report.js';
import { formatMs } from '../style.js';
import { dataTable, figure, renderPage, type ReportContext, type ReportSection } from './page.js';
import { esc, whiskerChart } from './svg.js';

const plain = new Chalk({ level: 0 });
const count = (n: number) => Math.round(n).toLocaleString('en-US');

interface Contender {
  label: string;
  summary: Omit<ContenderSummary, 'label'>;
}

interface Workload {
  name: string;
  path?: string;
  description: string;
  contenders: Contender[];
  verdict: string;
  /** The single process's req/s, when one ran: the base of the limit line. */
  single: number | null;
}

function workloadSection(w: Workload, limitFactor: number): ReportSection {
  const rows = w.contenders.map((c) => ({ label: c.label, value: c.summary.rps, min: c.summary.rpsRange.min, max: c.summary.rpsRange.max, text: `${count(c.summary.rps)} req/s (${count(c.summary.rpsRange.min)}–${count(c.summary.rpsRange.max)})` }));
  const limit = w.name === 'heavy' && w.single !== null && w.single > 0 ? { value: w.single * limitFactor, label: `limit: ${limitFactor} × one process` } : undefined;
  const table = dataTable(
    ['', 'req/s', 'p50', 'p99', 'failed', 'workers seen'],
    w.contenders.map((c) => [esc(c.label), esc(count(c.summary.rps)), esc(formatMs(c.summary.latencyMs.p50)), esc(formatMs(c.summary.latencyMs.p99)), esc(count(c.summary.failed)), esc(String(c.summary.workersSeen))]),
    [false, true, true, true, true, true],
  );
  const caption = `Median req/s over the runs, the whisker from the slowest to the fastest run${limit ? '; the dashed line: what min(workers, cores) times one process would reach' : ''}.`;
  return { title: `${workloadName(w)} · ${w.description}`, html: `${figure(whiskerChart(rows, `req/s, ${workloadName(w)}`, limit), caption)}${table}<p class="section-verdict">${esc(w.verdict)}</p>` };
}

function page(title: string, result: { cores: number; workers: number; runs: number; concurrency: number; n: number; app?: string }, workloads: Workload[], json: unknown, terminal: string, context: ReportContext): string {
  const limitFactor = Math.min(result.workers, result.cores);
  return renderPage({
    title,
    context,
    facts: [
      ['contenders', workloads[0]?.contenders.map((c) => c.label).join(' · ') ?? ''],
      ['runs', `${result.runs} per contender, alternated; medians (min–max)`],
      ['load', result.app ? `concurrency ${result.concurrency}, your app ${result.app}` : `concurrency ${result.concurrency}, /api/${result.n} for the heavy workload`],
    ],
    verdicts: workloads.map((w) => ({ ok: null, text: w.verdict })),
    sections: workloads.map((w) => workloadSection(w, limitFactor)),
    json,
    terminal,
  });
}

export function renderCompareHtml(result: CompareResult, context: ReportContext): string {
  const workloads = result.workloads.map((w) => ({
    name: w.name,
    path: w.path,
    description: w.description,
    contenders: [w.a, w.b].map((c) => ({ label: c.label, summary: c })),
    verdict: workloadVerdict(result, w),
    single: result.mode === 'single-vs-cluster' ? w.a.rps : null,
  }));
  return page(`cluster-demo compare: ${result.mode}${result.app ? ` · ${result.app}` : ''}`, result, workloads, result, renderCompareReport(result, plain), context);
}

export function renderPoliciesHtml(result: PoliciesResult, context: ReportContext): string {
  const workloads = result.workloads.map((w) => ({
    name: w.name,
    path: w.path,
    description: w.description,
    contenders: w.results.map((r) => ({ label: r.policy === 'single' ? 'single process' : `cluster, ${r.policy}`, summary: r })),
    verdict: w.verdict,
    single: w.results.find((r) => r.policy === 'single')?.rps ?? null,
  }));
  return page(`cluster-demo compare --policies${result.app ? ` · ${result.app}` : ''}`, result, workloads, result, renderPoliciesReport(result, plain), context);
}
