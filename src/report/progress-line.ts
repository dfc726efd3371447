import type { ChalkInstance } from 'chalk';
import type { LoadProgress } from '../load/engine.js';
import { formatInt } from './style.js';

/** One status line for the live view, at most `width` visible characters; pure. */
export function renderProgressLine(p: LoadProgress, c: ChalkInstance, width = 100): string {
  const rate = p.elapsedMs > 0 ? (p.completed * 1000) / p.elapsedMs : 0;
  const of = p.total !== undefined ? `/${formatInt(p.total)}` : p.durationMs ? ` (${(p.elapsedMs / 1000).toFixed(1)}/${(p.durationMs / 1000).toFixed(0)} s)` : '';
  const failed = p.failed > 0 ? ` · ${formatInt(p.failed)} failed` : '';
  const rest = ` ${formatInt(p.completed)}${of} · ${formatInt(rate)} req/s${failed}`;
  let pids = [...p.perPid]
    .sort((a, b) => (a.pid ?? 0) - (b.pid ?? 0))
    .map((w) => `${w.pid ?? '?'}:${formatInt(w.requests)}`)
    .join(' ');
  // Cut the per-PID list, not the counters, when the terminal is narrow (measured without colour codes).
  const room = width - p.path.length - rest.length - 3;
  if (pids.length > room) pids = room > 1 ? `${pids.slice(0, room - 1)}…` : '';
  return `${c.cyan(p.path)}${p.failed > 0 ? rest.replace(failed, c.red(failed)) : rest}${pids ? ` · ${pids}` : ''}`;
}

export interface LiveView {
  onProgress(progress: LoadProgress): void;
  onNotice(line: string): void;
  /** Clears the status line. */
  done(): void;
}

export interface StatusLine {
  /** False when nothing is drawn (not a TTY, or --no-progress): callers can skip building the text. */
  readonly active: boolean;
  /** Redraws the status line (a TTY only). */
  update(text: string): void;
  /** A line that stays, printed in every mode. */
  note(line: string): void;
  /** Clears the status line. */
  done(): void;
}

/** One status line redrawn on a TTY (stderr), nothing otherwise; notes are printed in both cases. */
export function createStatusLine(stream: NodeJS.WriteStream, enabled: boolean, c: ChalkInstance): StatusLine {
  const live = enabled && stream.isTTY === true;
  let drawn = false;
  const clear = () => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    active: live,
    update(text) {
      if (!live) return;
      stream.write(`\r\x1b[2K${text}`);
      drawn = true;
    },
    note(line) {
      clear();
      stream.write(`${c.yellow('note:')} ${line}\n`);
    },
    done: clear,
  };
}

/** The load's live view: a status line of progress per PID (a TTY only), and notices. */
export function createLiveView(stream: NodeJS.WriteStream, enabled: boolean, c: ChalkInstance): LiveView {
  const status = createStatusLine(stream, enabled, c);
  return {
    onProgress: (progress) => status.active && status.update(renderProgressLine(progress, c, (stream.columns || 100) - 1)),
    onNotice: (line) => status.note(line),
    done: () => status.done(),
  };
}
