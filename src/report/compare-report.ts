import type { ChalkInstance } from 'chalk';
import type { CompareResult, ContenderSummary, WorkloadResult } from '../compare/runner.js';
import { MIN_PAIRS_95 } from '../statistics/interval.js';
import { formatInt, formatMs, makeTable } from './style.js';

/** A workload as the reader knows it: light, heavy, mixed, or the path of their app. */
export function workloadName(w: { name: string; path?: string }): string {
  return w.name === 'app' ? (w.path ?? 'app') : w.name;
}

function ratioText(a: number, b: number, digits = 2): string {
  return a > 0 ? `${(b / a).toFixed(digits)}×` : '—';
}

function range(c: ContenderSummary): string {
  return c.runsRps.length > 1 ? ` (${formatInt(c.rpsRange.min)}–${formatInt(c.rpsRange.max)})` : '';
}

/** "95% interval 1.02–1.31×", or why there is none. */
export function intervalText(w: Pick<WorkloadResult, 'ratioInterval'>, runs: number): string {
  const i = w.ratioInterval;
  return i ? `95% interval ${i.low.toFixed(2)}–${i.high.toFixed(2)}×` : `${runs} run${runs === 1 ? '' : 's'}: too few for a 95% interval (${MIN_PAIRS_95} or more: --runs ${MIN_PAIRS_95})`;
}

/** The phrase every verdict leads with, from the interval alone (the bench's rule: statistics/interval.ts). */
function differenceText(w: WorkloadResult, runs: number, higher: string, lower: string): string {
  const x = `${w.ratio.toFixed(2)}×`;
  if (w.difference === 'higher') return `${higher} (${x}, ${intervalText(w, runs)})`;
  if (w.difference === 'lower') return `${lower} (${x}, ${intervalText(w, runs)})`;
  return `no difference this run can show (${x}, ${intervalText(w, runs)})`;
}

/** keep-alive vs a new connection per request: how many workers each reached, and what that did to req/s. */
function keepAliveVerdict(w: WorkloadResult, runs: number): string {
  const reach = `keep-alive reached ${w.a.workersSeen} worker${w.a.workersSeen === 1 ? '' : 's'}, a new connection per request reached ${w.b.workersSeen}`;
  const cost = "each new connection costs a handshake and, under rr, the primary's hand-off";
  const said = differenceText(w, runs, 'new connections did more req/s', 'keep-alive did more req/s');
  if (w.difference === 'higher') return `${workloadName(w)}: ${reach}; ${said}${w.b.workersSeen > w.a.workersSeen ? `, with more workers at work, although ${cost}` : ''}`;
  if (w.difference === 'lower') return `${workloadName(w)}: ${reach}; ${said}: ${cost}`;
  return `${workloadName(w)}: ${reach}; ${said}`;
}

/** The one-line reading of a workload: what the interval of B/A says on this machine. */
export function workloadVerdict(result: CompareResult, w: WorkloadResult): string {
  const limit = Math.min(result.workers, result.cores);
  if (result.mode === 'single-vs-cluster') {
    if (w.name === 'mixed') {
      return `mixed: /pid p50 ${formatMs(w.a.latencyMs.p50)} in one process vs ${formatMs(w.b.latencyMs.p50)} in the cluster — while one worker is busy the others keep answering (p99 ${formatMs(w.b.latencyMs.p99)}: round robin is not load-aware, some connections still land on the busy worker)`;
    }
    const said = differenceText(w, result.runs, 'faster', 'slower');
    if (w.difference === 'higher') return `${workloadName(w)}: the cluster (policy rr) is ${said}; the limit on this machine: ${limit} core${limit === 1 ? '' : 's'}`;
    if (w.difference === 'lower') return `${workloadName(w)}: the cluster (policy rr) is ${said}: with rr the primary accepts every connection and hands it to a worker, which costs more than this request on ${result.cores} cores; compare --policies measures none and reuseport, which leave the primary out`;
    return `${workloadName(w)}: the cluster (policy rr): ${said}; on ${result.cores} cores the generator, the primary and the workers share CPUs`;
  }
  if (result.mode === 'keepalive-vs-close') return keepAliveVerdict(w, result.runs);
  const jain = (c: ContenderSummary) => c.fairness.jain.toFixed(3);
  const cost = differenceText(w, result.runs, "rr did more req/s than none", "rr did fewer req/s than none: its primary hands over every connection");
  return `${workloadName(w)}: spread (Jain's index) ${jain(w.a)} with the OS's policy vs ${jain(w.b)} with Node's round robin; ${cost}`;
}

function renderWorkload(result: CompareResult, w: WorkloadResult, c: ChalkInstance): string {
  const table = makeTable(['', `A: ${w.a.label}`, `B: ${w.b.label}`, 'B/A'], ['left', 'right', 'right', 'right'], c);
  const row = (name: string, a: number, b: number, fmt: (v: number) => string, ratio = true) => table.push([name, fmt(a), fmt(b), ratio ? ratioText(a, b) : '']);
  table.push(['req/s (median)', formatInt(w.a.rps) + range(w.a), formatInt(w.b.rps) + range(w.b), c.bold(`${w.ratio.toFixed(2)}×`)]);
  row('p50', w.a.latencyMs.p50, w.b.latencyMs.p50, formatMs);
  row('p99', w.a.latencyMs.p99, w.b.latencyMs.p99, formatMs);
  row('max', w.a.latencyMs.max, w.b.latencyMs.max, formatMs);
  row('failed', w.a.failed, w.b.failed, formatInt, false);
  row('workers seen', w.a.workersSeen, w.b.workersSeen, String, false);
  if (result.mode !== 'single-vs-cluster') {
    table.push(["Jain's index", w.a.fairness.jain.toFixed(3), w.b.fairness.jain.toFixed(3), '']);
    const mm = (v: number | null) => (v === null ? '∞' : v.toFixed(2));
    table.push(['max/min share', mm(w.a.fairness.maxMinRatio), mm(w.b.fairness.maxMinRatio), '']);
  }
  const lines = [c.bold(workloadName(w)) + c.dim(` · ${w.description}`), table.toString(), workloadVerdict(result, w)];
  if (w.difference === 'no-difference' && w.name !== 'mixed') {
    lines.push(c.yellow(`note: the runs disagree more than A and B differ (A ${formatInt(w.a.rpsRange.min)}–${formatInt(w.a.rpsRange.max)}, B ${formatInt(w.b.rpsRange.min)}–${formatInt(w.b.rpsRange.max)} req/s); more runs narrow the interval: --runs ${Math.max(MIN_PAIRS_95, result.runs * 2)}`));
  }
  return lines.join('\n');
}

export function renderCompareReport(result: CompareResult, c: ChalkInstance): string {
  const title = {
    'single-vs-cluster': `one process vs a cluster of ${result.workers}`,
    'keepalive-vs-close': 'keep-alive connections vs a new connection per request (the probe)',
    'rr-vs-none': "Node's round robin vs the OS's scheduling",
  }[result.mode];
  const head = `${c.bold(`cluster-demo compare: ${title}${result.app ? ` · your app ${result.app}` : ''}`)}\n${c.dim(`${result.cores} cores · ${result.runs} run${result.runs === 1 ? '' : 's'} each, alternated A B A B, medians (min–max) · concurrency ${result.concurrency} · B/A: the median of the per-run ratios, judged by its exact 95% interval`)}`;
  return [head, ...result.workloads.map((w) => renderWorkload(result, w, c))].join('\n\n');
}

export function renderCompareJson(result: CompareResult): string {
  return JSON.stringify(result, null, 2);
}
