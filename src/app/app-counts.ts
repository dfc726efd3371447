/**
 * What a worker of a user's app counts per response (`serve --app`): path (without its query) and status class,
 * and method. Bounded, whatever the app serves: the first APP_PATH_LIMIT distinct paths get their own counters,
 * every later one is "other" (an app with /users/:id would otherwise grow a counter per user); methods outside
 * the standard ones are "OTHER". Per response: one property lookup and two increments.
 */
import { statusClass } from '../cluster/counts/worker-stats.js';
import type { AppRequestCounts, StatusClass } from '../cluster/counts/document.js';

export const APP_PATH_LIMIT = 32;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export class AppCounts implements AppRequestCounts {
  readonly byPath: Record<string, Record<StatusClass, number>> = Object.create(null);
  readonly byMethod: Record<string, number> = Object.create(null);
  private paths = 0;
  total = 0;

  constructor(private readonly pathLimit = APP_PATH_LIMIT) {}

  record(method: string | undefined, url: string | undefined, status: number): void {
    const q = url === undefined ? -1 : url.indexOf('?');
    let path = url === undefined ? 'other' : q === -1 ? url : url.slice(0, q);
    let counts = this.byPath[path];
    if (counts === undefined) {
      if (this.paths >= this.pathLimit) path = 'other';
      else this.paths++;
      counts = this.byPath[path] ??= { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
    }
    counts[statusClass(status)]++;
    const m = method !== undefined && METHODS.has(method) ? method : 'OTHER';
    this.byMethod[m] = (this.byMethod[m] ?? 0) + 1;
    this.total++;
  }

  /** A plain copy for the report (the counters keep counting while it is sent). */
  snapshot(): AppRequestCounts {
    const byPath: AppRequestCounts['byPath'] = {};
    for (const [path, counts] of Object.entries(this.byPath)) byPath[path] = { ...counts };
    return { byPath, byMethod: { ...this.byMethod } };
  }
}
