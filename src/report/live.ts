import type { ChalkInstance } from 'chalk';
import type { LoadProgress } from '../load/engine.js';
import { formatInt } from './style.js';

/** One status line for the live view; pure. */
export function renderProgressLine(p: LoadProgress, c: ChalkInstance, width = 100): string {
  const rate = p.elapsedMs > 0 ? (p.completed * 1000) / p.elapsedMs : 0;
  const of = p.total !== undefined ? `/${formatInt(p.total)}` : p.durationMs ? ` (${(p.elapsedMs / 1000).toFixed(1)}/${(p.durationMs / 1000).toFixed(0)} s)` : '';
  const pids = [...p.perPid].sort((a, b) => (a.pid ?? 0) - (b.pid ?? 0)).map((w) => `${w.pid ?? '?'}:${formatInt(w.requests)}`).join(' ');
  const failed = p.failed > 0 ? c.red(` ${formatInt(p.failed)} failed`) : '';
  const line = `${c.cyan(p.path)} ${formatInt(p.completed)}${of} · ${formatInt(rate)} req/s${failed} · ${pids}`;
  return line.length > width + 20 ? `${line.slice(0, width + 17)}…` : line;
}

export interface LiveView {
  onProgress(progress: LoadProgress): void;
  onNotice(line: string): void;
  /** Clears the status line. */
  done(): void;
}

/** A redrawn status line on a TTY (stderr), nothing otherwise; notices are printed in both cases. */
export function createLiveView(stream: NodeJS.WriteStream, enabled: boolean, c: ChalkInstance): LiveView {
  const live = enabled && stream.isTTY === true;
  let drawn = false;
  const clear = () => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    onProgress(progress) {
      if (!live) return;
      stream.write(`\r\x1b[2K${renderProgressLine(progress, c, (stream.columns ?? 100) - 1)}`);
      drawn = true;
    },
    onNotice(line) {
      clear();
      stream.write(`${c.yellow('note:')} ${line}\n`);
    },
    done: clear,
  };
}
