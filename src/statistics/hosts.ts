/**
 * The second level of balancing: a load balancer spreads requests over hosts, each host's cluster over its
 * workers. Groups per-worker counts by host (x-hostname) and measures fairness across hosts. Pure; tested with
 * literal numbers.
 */
import { jainIndex, maxMinRatio, padWithSilentWorkers, round } from './fairness.js';

export interface WorkerCount {
  pid: number | null;
  host: string | null;
  primaryPid: number | null;
  requests: number;
}

export interface HostReport {
  /** x-hostname (`serve --name`); null for responses that named no host. */
  host: string | null;
  requests: number;
  /** Fraction of the route's responses, 0..1. */
  share: number;
  /** The cluster primaries seen behind this name, ascending (more than one: several instances share a name). */
  primaryPids: number[];
  /** Distinct known worker PIDs that served. */
  workers: number;
}

export interface HostFairness {
  /** Over the hosts expected (hosts that served nothing count as 0), else over those seen. */
  jain: number;
  /** null when a host got nothing (or none answered). */
  maxMinRatio: number | null;
}

const byName = (a: string | null, b: string | null) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b, 'en', { numeric: true }));

export function groupByHost(workers: readonly WorkerCount[], hostsExpected: number | null = null): { hosts: HostReport[]; fairness: HostFairness } {
  const groups = new Map<string | null, { requests: number; primaries: Set<number>; pids: Set<number> }>();
  for (const w of workers) {
    let group = groups.get(w.host);
    if (!group) groups.set(w.host, (group = { requests: 0, primaries: new Set(), pids: new Set() }));
    group.requests += w.requests;
    if (w.primaryPid !== null) group.primaries.add(w.primaryPid);
    if (w.pid !== null) group.pids.add(w.pid);
  }
  const total = workers.reduce((sum, w) => sum + w.requests, 0);
  const hosts = [...groups]
    .sort(([a], [b]) => byName(a, b))
    .map(([host, g]) => ({ host, requests: g.requests, share: total === 0 ? 0 : round(g.requests / total, 4), primaryPids: [...g.primaries].sort((a, b) => a - b), workers: g.pids.size }));
  const counts = padWithSilentWorkers(hosts.filter((h) => h.host !== null).map((h) => h.requests), hostsExpected ?? undefined);
  const ratio = maxMinRatio(counts);
  return { hosts, fairness: { jain: round(jainIndex(counts), 4), maxMinRatio: Number.isFinite(ratio) ? round(ratio, 3) : null } };
}

/** Distinct named hosts that served. */
export function hostsSeen(hosts: readonly HostReport[]): number {
  return hosts.filter((h) => h.host !== null && h.requests > 0).length;
}
