/**
 * The probe's cross-check with the server's own counts: when the target is ours (in-process, or a server that
 * answers /_cluster/stats), the per-worker counts are read before and after the run, and each route's
 * difference is set beside what the probe itself saw. Reading is I/O; the comparison is pure.
 */
import http from 'node:http';
import https from 'node:https';
import type { RouteReport } from '../load/summary.js';
import { routeUrl } from '../load/url.js';
import { STATUS_CLASSES, type ClusterStatsDoc, type CountedRoute } from '../cluster/counts/document.js';

/** Where a cluster's stats come from: the in-process cluster, or a URL (null: no stats there). */
export type StatsSource = () => Promise<ClusterStatsDoc | null>;

/** GET <base>/_cluster/stats; null when the server has no such route (the seed's app, a stats-off server). */
export function statsOverHttp(base: URL, options: { insecure?: boolean; timeoutMs?: number } = {}): StatsSource {
  // ?exact: the primary waits for every worker's counts (a server of an older version ignores it).
  const url = `${routeUrl(base, '/_cluster/stats')}?exact`;
  return () =>
    new Promise((resolve) => {
      const get = url.startsWith('https:') ? https.get : http.get;
      const req = get(url, { agent: false, headers: { accept: 'application/json' }, rejectUnauthorized: !options.insecure, timeout: options.timeoutMs ?? 15_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(res.statusCode === 200 ? parseDoc(body) : null));
        res.on('error', () => resolve(null));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(null));
    });
}

function parseDoc(body: string): ClusterStatsDoc | null {
  try {
    const doc = JSON.parse(body) as ClusterStatsDoc;
    return typeof doc.primaryPid === 'number' && Array.isArray(doc.workers) ? doc : null;
  } catch {
    return null;
  }
}

export interface ServerCount {
  /** The probe's route, e.g. /pid. */
  route: string;
  host: string;
  primaryPid: number;
  pid: number;
  /** Requests the server counted on this route for this worker during the run. */
  requests: number;
}

const COUNTED: Record<string, CountedRoute> = { '/': '/', '/pid': '/pid', '/api/:n': '/api/:n' };

/**
 * What one worker counted for the probe's route: the demo's route counter, or (a user's app) the counter of the
 * path the probe sent, without its query. 0 for a worker not in the document.
 */
function countOn(doc: ClusterStatsDoc | undefined, pid: number, route: string): number {
  const worker = doc?.workers.find((w) => w.pid === pid);
  if (!worker) return 0;
  const counts = worker.app ? worker.app.byPath[route.split('?')[0]!] : COUNTED[route] ? worker.byRoute[COUNTED[route]] : undefined;
  return counts ? STATUS_CLASSES.reduce((sum, cls) => sum + counts[cls], 0) : 0;
}

/** Whether the server counts this route apart: every path of a user's app, the demo's own routes. */
function counts(doc: ClusterStatsDoc, route: string): boolean {
  return doc.workers.some((w) => w.app) || COUNTED[route] !== undefined;
}

export interface ServerCounts {
  /** The clusters whose stats were read before and after the run (a server that changed in between is left out). */
  covered: Array<{ hostname: string; primaryPid: number }>;
  workers: ServerCount[];
  /** Routes where the counts differ by more than the probe's failures and retries. */
  mismatches: CountCheck[];
}

/** Per route and worker, what the server counted between the two readings (the same sources, in order). Pure. */
export function serverCountsBetween(before: ReadonlyArray<ClusterStatsDoc | null>, after: ReadonlyArray<ClusterStatsDoc | null>, routes: readonly string[]): Pick<ServerCounts, 'covered' | 'workers'> & { counted: string[] } {
  const workers: ServerCount[] = [];
  const counted = new Set<string>();
  const covered: ServerCounts['covered'] = [];
  after.forEach((doc, i) => {
    const earlier = before[i];
    if (!doc || !earlier || earlier.primaryPid !== doc.primaryPid) return;
    covered.push({ hostname: doc.hostname, primaryPid: doc.primaryPid });
    for (const route of routes) {
      if (!counts(doc, route)) continue;
      counted.add(route);
      for (const w of doc.workers) {
        const requests = countOn(doc, w.pid, route) - countOn(earlier, w.pid, route);
        if (requests > 0) workers.push({ route, host: doc.hostname, primaryPid: doc.primaryPid, pid: w.pid, requests });
      }
    }
  });
  return { covered, workers, counted: [...counted] };
}

export interface CountCheck {
  route: string;
  probe: number;
  server: number;
  /** The failures and retries the probe knows of: a difference up to this many is explained. */
  explained: number;
}

/**
 * Per route, over the workers the stats cover: the probe's responses against the server's counts. Routes where
 * they differ by more than the probe's failures and retries. Pure.
 */
export function countMismatches(routes: readonly RouteReport[], counts: readonly ServerCount[], covered: ReadonlyArray<{ primaryPid: number }>): CountCheck[] {
  const primaries = new Set(covered.map((d) => d.primaryPid));
  const out: CountCheck[] = [];
  for (const route of routes) {
    const probe = route.workers.filter((w) => w.primaryPid !== null && primaries.has(w.primaryPid)).reduce((sum, w) => sum + w.requests, 0);
    const server = counts.filter((c) => c.route === route.route).reduce((sum, c) => sum + c.requests, 0);
    const explained = route.failed + route.retries;
    if (Math.abs(probe - server) > explained) out.push({ route: route.route, probe, server, explained });
  }
  return out;
}
