/**
 * `serve --log json`: the log for programs. One JSON object per line, each a ClusterEvent (its `type` says which:
 * `ready` carries the URL and the workers' PIDs, `worker-started` a fork, `worker-died` / `worker-exited` an exit
 * with its code or signal, `worker-respawning`, `reload-started` / `reload-replaced` / `reload-finished`,
 * `shutdown-started`, `stopped`), plus serve's own: `signal`, `reload-failed`, `start-failed` and `summary`. `at` is
 * milliseconds since the epoch. docs/json.md lists the fields; readers must ignore types they do not know.
 */
import type { ClusterEvent } from './primary.js';

export type ServeLogEvent =
  | ClusterEvent
  | { at: number; type: 'signal'; signal: NodeJS.Signals; repeated: boolean }
  | { at: number; type: 'reload-failed'; message: string }
  | { at: number; type: 'start-failed'; message: string }
  /** At most once a minute, when something was served: the totals and each live worker's count. */
  | { at: number; type: 'summary'; requests: number; workers: Array<{ pid: number; requests: number }> };

export function serveLogLine(event: ServeLogEvent): string {
  return JSON.stringify(event);
}

/** The JSON log line in `line`, or undefined for anything else (a human line, a partial line). */
export function parseServeLogLine(line: string): ServeLogEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as { type?: unknown; at?: unknown };
    return typeof value.type === 'string' && typeof value.at === 'number' ? (value as ServeLogEvent) : undefined;
  } catch {
    return undefined;
  }
}
