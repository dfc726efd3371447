/**
 * bench/RESULTS.md, entirely generated: a pure function of a finished bench. Hand-written findings live in
 * bench/NOTES.md, which RESULTS.md links to.
 */
import type { RowResult } from './bench.js';

export interface Machine {
  date: string;
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  kernel: string;
  loadavg: string;
  tools: Record<string, string>;
  totalSeconds: number;
  /** Other processes' CPU over the measured rows. */
  foreign: { coreSeconds: number; seconds: number; share: number; waitedSeconds: number } | null;
}

export interface BenchResult {
  machine: Machine;
  /** The --rows given, or null for the whole bench. */
  rowsAsked: string[] | null;
  quick: boolean;
  rows: RowResult[];
  settings: Record<string, string>;
  runs: Record<string, string[]>;
  budgetS: number;
}

/**
 * bench/RESULTS.md: every line's latest full run (bench/results/node-N.json), row by row side by side: figure,
 * interval and state. Pure.
 */
export function renderIndex(results: readonly BenchResult[]): string {
  const sorted = [...results].sort((a, b) => Number.parseInt(a.machine.node.slice(1), 10) - Number.parseInt(b.machine.node.slice(1), 10));
  const lines = ['# Benchmark results', ''];
  lines.push(`The latest full \`npm run bench\` on each Node.js line, side by side; each line's whole run (every pair, the machine, the settings) is in its own file under [results/](results/). ${HOW_TO_READ} What the figures taught us: [NOTES.md](NOTES.md).`, '');
  lines.push('| Line | File | Date | Machine | Took |', '|---|---|---|---|---|');
  for (const r of sorted) lines.push(`| Node.js ${r.machine.node} | [results/node-${r.machine.node.slice(1).split('.')[0]}.md](results/node-${r.machine.node.slice(1).split('.')[0]}.md) | ${r.machine.date} | ${r.machine.cores} cores, ${r.machine.cpuModel} | ${fmt(r.machine.totalSeconds, 0)} s |`);
  lines.push('', '## Rows', '');
  lines.push(`| # | Row | Goal | ${sorted.map((r) => `Node ${r.machine.node.slice(1).split('.')[0]}`).join(' | ')} |`);
  lines.push(`|---|-----|------|${sorted.map(() => '---').join('|')}|`);
  const ids = [...new Set(sorted.flatMap((r) => r.rows.map((row) => row.id)))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (const id of ids) {
    const first = sorted.flatMap((r) => r.rows).find((row) => row.id === id)!;
    const cells = sorted.map((r) => {
      const row = r.rows.find((x) => x.id === id);
      if (!row) return '—';
      if (row.status !== 'measured') return row.status;
      return `${measuredCell(row)}${row.interval ? ` [${intervalCell(row)}]` : ''} ${resultCell(row)} (${row.pairs})`;
    });
    lines.push(`| ${id} | ${first.title} | ${first.goalText} | ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

const fmt = (value: number, digits: number) => value.toFixed(digits);

function measuredCell(r: RowResult): string {
  if (r.status === 'skipped') return `skipped: ${r.reason}`;
  if (r.status === 'error') return `error: ${r.reason}`;
  return `${fmt(r.median, r.digits)}${r.unit}`;
}

function intervalCell(r: RowResult): string {
  if (r.status !== 'measured') return '—';
  return r.interval ? `${fmt(r.interval.low, r.digits)}–${fmt(r.interval.high, r.digits)}${r.unit}` : '—';
}

function rangeCell(r: RowResult): string {
  return r.status === 'measured' && r.range ? `${fmt(r.range.min, r.digits)}–${fmt(r.range.max, r.digits)}${r.unit}` : '—';
}

export function resultCell(r: RowResult): string {
  if (r.status !== 'measured') return r.status;
  if (r.state === null) return 'info';
  return r.state === 'pass' ? '**pass**' : r.state === 'miss' ? '**MISS**' : 'inconclusive';
}

/**
 * Where a run's results go: a full run on Node N writes bench/results/node-N.md (and its .json, which
 * bench/RESULTS.md is built from, with every line's runs side by side). A run of some rows (--rows) or a --quick
 * one would replace every other row's figures with nothing, so it writes beside them (bench/out/, not committed).
 */
export function resultsFile(run: { rowsAsked: readonly string[] | null; quick: boolean; nodeMajor: number }, dirs: { results: string; partial: string }): string {
  return run.rowsAsked === null && !run.quick ? `${dirs.results}/node-${run.nodeMajor}.md` : `${dirs.partial}/RESULTS-partial.md`;
}

const HOW_TO_READ =
  'Each ratio row\'s figure is the **median of its per-pair values**, each pair measured side by side and alternated (A B, then B A), with the **exact order-statistic 95% interval of that median** (the pairs sorted, [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] for the largest k whose coverage 1 − 2·P(Binomial(n, ½) ≤ k − 1) is still ≥ 95%; it needs 6 pairs) and the min–max. ' +
  'A row **passes** only when its whole interval meets the goal, **misses** only when its whole interval lies on the wrong side, and is otherwise **inconclusive**: the bench then adds pairs, up to its per-row budget (`--budget`), and reports the final state with the pairs it took. ' +
  'Rows 2c, 2d, 7a, 7b and 8 are judged on the server\'s CPU per request (primary and workers, from /proc), req/s beside; 7d on nanoseconds per request, in-process. Row 5 is single runs (memory peaks): no interval, its state judged on the figure, as its Statistic says. compare\'s verdicts (row 6) use the same rule.';

export function renderResults(result: BenchResult): string {
  const { machine: m, rows } = result;
  const lines = ['# Benchmark results', ''];
  lines[0] = `# Benchmark results, Node.js ${m.node}`;
  lines.push(
    `Generated by \`npm run bench${result.rowsAsked ? ` -- --rows ${result.rowsAsked.join(',')}` : ''}\` (bench/run.ts) on ${m.date} with Node.js ${m.node}; the run took ${fmt(m.totalSeconds, 0)} s; budget for added pairs: ${result.budgetS} s per row. ` +
      `${HOW_TO_READ} Loopback only (127.0.0.1). This file is written by the bench and nothing else; what the figures taught us is in [NOTES.md](../NOTES.md).`,
    '',
  );
  if (result.quick) lines.push('**--quick: reduced counts; these figures are for trying the bench, not for quoting.**', '');
  lines.push('## Machine', '');
  lines.push(`- ${m.cores} cores (os.availableParallelism), ${m.cpuModel}`);
  lines.push(`- Node.js ${m.node}, ${m.platform} ${m.kernel}`);
  lines.push(`- Tools: ${Object.entries(m.tools).map(([k, v]) => `${k}: ${v}`).join('; ') || 'none found'}`);
  lines.push(`- Load average when the bench started: ${m.loadavg}`);
  if (m.foreign) lines.push(`- Other processes used ${(m.foreign.share * 100).toFixed(0)}% of the cores while rows were measured (${m.foreign.coreSeconds.toFixed(0)} core-seconds in ${m.foreign.seconds.toFixed(0)} s; the bench waited ${m.foreign.waitedSeconds.toFixed(0)} s for a quieter machine)`);
  lines.push('', '## Results', '');
  lines.push('| # | Row | Goal | Figure | 95% interval | min–max | Pairs | Result | Statistic | Other CPU¹ |');
  lines.push('|---|-----|------|--------|--------------|---------|-------|--------|-----------|------------|');
  for (const r of rows) {
    const other = r.foreignShare === undefined ? '—' : `${(r.foreignShare * 100).toFixed(0)}%`;
    const measuredRow = r.status === 'measured' ? r : null;
    lines.push(`| ${r.id} | ${r.title} | ${r.goalText} | ${measuredCell(r)} | ${intervalCell(r)} | ${rangeCell(r)} | ${measuredRow?.pairs ?? '—'} | ${resultCell(r)} | ${measuredRow?.statistic ?? '—'} | ${other} |`);
  }
  lines.push('', '¹ CPU used by processes outside the bench while that row ran, as a share of all cores (from /proc).', '');
  lines.push('## What each row measured', '');
  for (const r of rows) if (r.status === 'measured') lines.push(`- **${r.id}** ${r.detail}`);
  lines.push('', '## Settings', '');
  for (const [key, value] of Object.entries(result.settings)) lines.push(`- ${key}: ${value}`);
  lines.push('', '## Every run, in the order it ran', '');
  for (const [group, entries] of Object.entries(result.runs)) {
    lines.push(`**${group}**`, '');
    for (const entry of entries) lines.push(`- ${entry}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
