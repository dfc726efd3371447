/**
 * What a worker of a user's app counts per response (`serve --app`): path (without its query) and status class,
 * and method. Bounded, whatever the app serves: the first APP_PATH_LIMIT distinct paths get their own counters,
 * every later one is "other" (an app with /users/:id would otherwise grow a counter per user); methods outside
 * the standard ones are "OTHER".
 *
 * Per response: two Map lookups and three increments. Maps, not objects keyed by path: a path is a new string
 * each request, and a property lookup with it probes V8's global string table first (bench NOTES, row 9: that
 * probe, with the dictionary-mode objects `Object.create(null)` makes, was a visible share of the agent's cost).
 */
import { statusClass } from '../cluster/counts/worker-stats.js';
import type { AppRequestCounts, StatusClass } from '../cluster/counts/document.js';

export const APP_PATH_LIMIT = 32;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const OTHER_PATH = 'other';

type StatusCounts = Record<StatusClass, number>;

export class AppCounts {
  private readonly byPath = new Map<string, StatusCounts>();
  private readonly byMethod = new Map<string, { n: number }>(METHODS.map((method) => [method, { n: 0 }]));
  private readonly otherMethod = { n: 0 };
  total = 0;

  constructor(private readonly pathLimit = APP_PATH_LIMIT) {}

  record(method: string | undefined, url: string | undefined, status: number): void {
    const q = url === undefined ? -1 : url.indexOf('?');
    const path = url === undefined ? OTHER_PATH : q === -1 ? url : url.slice(0, q);
    const counts = this.byPath.get(path) ?? this.newPath(path);
    counts[statusClass(status)]++;
    ((method !== undefined && this.byMethod.get(method)) || this.otherMethod).n++;
    this.total++;
  }

  /** A path seen for the first time: counters of its own while under the limit, else "other"'s. */
  private newPath(path: string): StatusCounts {
    const key = this.byPath.size - (this.byPath.has(OTHER_PATH) ? 1 : 0) < this.pathLimit ? path : OTHER_PATH;
    let counts = this.byPath.get(key);
    if (counts === undefined) this.byPath.set(key, (counts = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }));
    return counts;
  }

  /** A plain copy for the report (the counters keep counting while it is sent). */
  snapshot(): AppRequestCounts {
    const byPath: AppRequestCounts['byPath'] = {};
    for (const [path, counts] of this.byPath) byPath[path] = { ...counts };
    const byMethod: AppRequestCounts['byMethod'] = {};
    for (const [method, { n }] of this.byMethod) if (n > 0) byMethod[method] = n;
    if (this.otherMethod.n > 0) byMethod.OTHER = this.otherMethod.n;
    return { byPath, byMethod };
  }
}
