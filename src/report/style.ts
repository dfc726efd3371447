import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';

// The pure number formats live in format.ts (the dashboard's browser script uses them too); re-exported here.
export { formatInt, formatMs, formatMsOrDash, formatPercent } from './format.js';

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

/** The tables of every report: no rule between rows, colour only when the chalk instance has it. */
/** rowLines: a rule between rows, for tables whose cells wrap over several lines. */
export function makeTable(head: string[], colAligns: Array<'left' | 'right'>, c: ChalkInstance, options: { rowLines?: boolean } = {}): Table.Table {
  return new Table({
    head,
    colAligns,
    chars: options.rowLines ? {} : { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: c.level > 0 ? ['cyan'] : [], border: c.level > 0 ? ['grey'] : [] },
  });
}
