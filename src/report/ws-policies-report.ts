/** `compare --policies --ws` as text: a pure function of the result. */
import type { ChalkInstance } from 'chalk';
import { EVEN, medianOrNull, type WsPoliciesResult } from '../compare/ws-policies.js';
import { formatInt, makeTable } from './style.js';

const ratio = (value: number | null) => (value === null ? '∞' : `${value.toFixed(2)}×`);

export function renderWsPoliciesReport(result: WsPoliciesResult, c: ChalkInstance): string {
  const lines = [
    c.bold(`${formatInt(result.connections)} WebSockets on ${result.workers} workers, one worker SIGKILLed ${result.chaosMs} ms after they opened, its clients reconnecting (Socket.IO's backoff, 0.5–1.5 s); ${result.runs} run${result.runs === 1 ? '' : 's'} per policy`),
  ];
  const table = makeTable(['policy', 'before the kill', 'after the reconnects', 'each run', 'open per live worker (last run)', 'reconnects'], ['left', 'right', 'right', 'left', 'left', 'right'], c);
  for (const r of result.results) {
    const last = r.runs.at(-1);
    const after = ratio(r.medianAtEnd);
    table.push([
      r.label,
      ratio(medianOrNull(r.runs.map((x) => x.atStart))),
      r.medianAtEnd !== null && r.medianAtEnd <= EVEN ? c.green(after) : c.yellow(after),
      r.runs.map((x) => ratio(x.atEnd)).join(' '),
      last ? last.openAtEnd.map(formatInt).join(' / ') : '–',
      last ? formatInt(last.reconnects) : '–',
    ]);
  }
  lines.push(table.toString());
  lines.push(c.dim('busiest ÷ least busy live worker by open sockets (median of the runs; ∞: a live worker held none); the clients\' own count of where each socket is'));
  lines.push(result.verdict);
  return lines.join('\n');
}
