import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';

/**
 * Colour decision in one place: --no-color or a non-empty NO_COLOR turns it off; otherwise chalk's own
 * detection of the terminal decides (FORCE_COLOR can turn it on for pipes).
 */
export function makeChalk(color: boolean | undefined, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  const noColorEnv = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  if (color === false || noColorEnv) return new Chalk({ level: 0 });
  return new Chalk();
}

/** A horizontal bar of `width` cells for value/max, with eighth-cell resolution. */
export function bar(value: number, max: number, width: number): string {
  if (!(max > 0) || !(value > 0)) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  const full = Math.floor(eighths / 8);
  const partial = eighths % 8;
  return '█'.repeat(full) + (partial ? '▏▎▍▌▋▊▉'[partial - 1]! : '');
}

/** A latency that may not exist (a worker that answered nothing): '–'. */
export function formatMsOrDash(ms: number | null): string {
  return ms === null ? '–' : formatMs(ms);
}

export function formatMs(ms: number): string {
  // The unit and precision are chosen on the rounded value, so 99.96 reads "100 ms", not "100.0 ms".
  if (Number(ms.toFixed(0)) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (Number(ms.toFixed(1)) >= 100) return `${ms.toFixed(0)} ms`;
  if (Number(ms.toFixed(2)) >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** The tables of every report: no rule between rows, colour only when the chalk instance has it. */
export function makeTable(head: string[], colAligns: Array<'left' | 'right'>, c: ChalkInstance): Table.Table {
  return new Table({
    head,
    colAligns,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: c.level > 0 ? ['cyan'] : [], border: c.level > 0 ? ['grey'] : [] },
  });
}
