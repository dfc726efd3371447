import type { ChalkInstance } from 'chalk';
import type { CompareResult, ContenderSummary, WorkloadResult } from '../compare/runner.js';
import { formatInt, formatMs, makeTable } from './style.js';

function ratioText(a: number, b: number, digits = 2): string {
  return a > 0 ? `${(b / a).toFixed(digits)}×` : '—';
}

function range(c: ContenderSummary): string {
  return c.runsRps.length > 1 ? ` (${formatInt(c.rpsRange.min)}–${formatInt(c.rpsRange.max)})` : '';
}

/** The one-line reading of a workload: what the ratio means on this machine. */
/** keep-alive vs a new connection per request: how many workers each reached, and what that did to req/s. */
function keepAliveVerdict(w: WorkloadResult, x: string): string {
  const reach = `keep-alive reached ${w.a.workersSeen} worker${w.a.workersSeen === 1 ? '' : 's'}, a new connection per request reached ${w.b.workersSeen}`;
  const cost = 'each new connection costs a handshake and, under rr, the primary\'s hand-off';
  if (w.ratio >= 1.1) return `${w.name}: ${reach}; new connections did ${x} the req/s${w.b.workersSeen > w.a.workersSeen ? ', with more workers at work, although ' + cost : ''}`;
  if (w.ratio <= 0.9) return `${w.name}: ${reach}; keep-alive did more (new connections: ${x} its req/s): ${cost}`;
  return `${w.name}: ${reach}; about the same req/s (${x})`;
}

export function workloadVerdict(result: CompareResult, w: WorkloadResult): string {
  const limit = Math.min(result.workers, result.cores);
  const x = `${w.ratio.toFixed(2)}×`;
  if (result.mode === 'single-vs-cluster') {
    if (w.name === 'mixed') {
      return `mixed: /pid p50 ${formatMs(w.a.latencyMs.p50)} in one process vs ${formatMs(w.b.latencyMs.p50)} in the cluster — while one worker is busy the others keep answering (p99 ${formatMs(w.b.latencyMs.p99)}: round robin is not load-aware, some connections still land on the busy worker)`;
    }
    if (w.ratio >= 1.1) return `${w.name}: the cluster (policy rr) is ${x} faster (limit on this machine: ${limit} core${limit === 1 ? '' : 's'})`;
    if (w.ratio >= 0.9) return `${w.name}: the cluster (policy rr) is ${x} — no real gain: on ${result.cores} cores the generator, the primary and the workers share CPUs`;
    return `${w.name}: the cluster (policy rr) is ${x} — slower: with rr the primary accepts every connection and hands it to a worker, which costs more than this request on ${result.cores} cores; compare --policies measures none and reuseport, which leave the primary out`;
  }
  if (result.mode === 'keepalive-vs-close') return keepAliveVerdict(w, x);
  const jain = (c: ContenderSummary) => c.fairness.jain.toFixed(3);
  const cost = w.ratio < 0.9 ? `rr reached ${x} of none's req/s: its primary hands over every connection` : w.ratio > 1.1 ? `rr reached ${x} of none's req/s` : `rr and none cost about the same (${x})`;
  return `${w.name}: spread (Jain's index) ${jain(w.a)} with the OS's policy vs ${jain(w.b)} with Node's round robin; ${cost}`;
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
  const lines = [c.bold(`${w.name}`) + c.dim(` · ${w.description}`), table.toString(), workloadVerdict(result, w)];
  if (w.spreadExceedsDifference && w.name !== 'mixed') {
    lines.push(c.yellow(`note: the run-to-run spread (A ${formatInt(w.a.rpsRange.min)}–${formatInt(w.a.rpsRange.max)}, B ${formatInt(w.b.rpsRange.min)}–${formatInt(w.b.rpsRange.max)} req/s) is wider than the difference; try --runs 5`));
  }
  return lines.join('\n');
}

export function renderCompareReport(result: CompareResult, c: ChalkInstance): string {
  const title = {
    'single-vs-cluster': `one process vs a cluster of ${result.workers}`,
    'keepalive-vs-close': 'keep-alive connections vs a new connection per request (the probe)',
    'rr-vs-none': "Node's round robin vs the OS's scheduling",
  }[result.mode];
  const head = `${c.bold(`cluster-demo compare: ${title}`)}\n${c.dim(`${result.cores} cores · ${result.runs} run${result.runs === 1 ? '' : 's'} each, alternated A B A B, medians (min–max) · concurrency ${result.concurrency}`)}`;
  return [head, ...result.workloads.map((w) => renderWorkload(result, w, c))].join('\n\n');
}

export function renderCompareJson(result: CompareResult): string {
  return JSON.stringify(result, null, 2);
}
