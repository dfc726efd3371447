/**
 * `cluster-demo compare --policies --ws`: the same experiment under each policy (rr, none, least-conn, and
 * ip-hash with every client on one address, then spread over 8): hold 200 WebSockets, SIGKILL one worker, let its
 * clients reconnect, and read how evenly the live workers hold the open sockets afterwards. Each run is
 * `cluster-demo probe --ws --chaos` in a child process of its own (Node fixes the scheduling policy per process,
 * and the probe is the one code path that holds sockets); runs rotate the order. Returns data;
 * report/ws-policies-report.ts renders it.
 */
import { execFile } from 'node:child_process';
import { cliEntryPath } from '../cluster/spawn.js';
import type { SchedulingPolicy } from '../cluster/policy.js';
import type { LongLivedProbeResult } from '../probe/long-lived-run.js';
import { runOrder } from './policies.js';

export interface WsPolicyContender {
  /** "rr", "ip-hash (1 address)", … */
  label: string;
  policy: SchedulingPolicy;
  sourceAddresses: number | null;
}

export interface WsPolicyRun {
  /** Busiest ÷ least busy live worker by open sockets, before the kill and after the reconnects; null: a live worker held none. */
  atStart: number | null;
  atEnd: number | null;
  /** Open sockets per live worker at the end, busiest first. */
  openAtEnd: number[];
  reconnects: number;
  /** Sockets without a connection at the end (reconnects that never landed). */
  unconnected: number;
}

export interface WsPolicyResult extends WsPolicyContender {
  runs: WsPolicyRun[];
  /** The median over runs of atEnd (null, a worker holding none, counts as the largest); null when that median is one. */
  medianAtEnd: number | null;
}

export interface WsPoliciesResult {
  mode: 'policies-ws';
  workers: number;
  connections: number;
  runs: number;
  /** The kill comes this long after the sockets opened; the probe holds them holdMs in all. */
  chaosMs: number;
  holdMs: number;
  results: WsPolicyResult[];
  /** One line, from the figures. */
  verdict: string;
}

export interface WsPoliciesOptions {
  workers: number;
  connections: number;
  runs: number;
  signal?: AbortSignal;
  onStatus?: (line: string) => void;
}

export const WS_CONTENDERS: readonly WsPolicyContender[] = [
  { label: 'rr', policy: 'rr', sourceAddresses: null },
  { label: 'none', policy: 'none', sourceAddresses: null },
  { label: 'least-conn', policy: 'least-conn', sourceAddresses: null },
  { label: 'ip-hash (1 address)', policy: 'ip-hash', sourceAddresses: null },
  { label: 'ip-hash (8 addresses)', policy: 'ip-hash', sourceAddresses: 8 },
];

/** One kill: the sockets open, 600 ms later a worker dies, 1 s in all, then the probe waits for every reconnect. */
const CHAOS_MS = 600;
const HOLD_MS = 1_000;
/** Within ±10% of the mean: busiest ÷ least busy at most 1.1 / 0.9. */
export const EVEN = 1.1 / 0.9;

export async function runWsPolicies(options: WsPoliciesOptions): Promise<WsPoliciesResult> {
  const runs: WsPolicyRun[][] = WS_CONTENDERS.map(() => []);
  for (let run = 0; run < options.runs; run++) {
    for (const i of runOrder(WS_CONTENDERS.length, run)) {
      const contender = WS_CONTENDERS[i]!;
      options.onStatus?.(`run ${run + 1}/${options.runs} · ${contender.label}`);
      runs[i]!.push(await probeOnce(contender, options));
    }
  }
  const results = WS_CONTENDERS.map((c, i) => ({ ...c, runs: runs[i]!, medianAtEnd: medianOrNull(runs[i]!.map((r) => r.atEnd)) }));
  return { mode: 'policies-ws', workers: options.workers, connections: options.connections, runs: options.runs, chaosMs: CHAOS_MS, holdMs: HOLD_MS, results, verdict: wsPoliciesVerdict(results) };
}

function probeOnce(contender: WsPolicyContender, options: WsPoliciesOptions): Promise<WsPolicyRun> {
  const args = [cliEntryPath(), 'probe', '--ws', '--sched', contender.policy, '--workers', String(options.workers), '--connections', String(options.connections), '--messages', '1', '--chaos', `${CHAOS_MS}ms`, '--duration', `${HOLD_MS}ms`, '--json'];
  if (contender.sourceAddresses !== null) args.push('--source-addresses', String(contender.sourceAddresses));
  return new Promise((resolve, reject) => {
    // Exit 1 is a finding here (ip-hash on one address leaves a worker without sockets), not a failure: the document says what happened.
    execFile(process.execPath, args, { signal: options.signal, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      let doc: LongLivedProbeResult;
      try {
        doc = JSON.parse(stdout) as LongLivedProbeResult;
      } catch {
        return reject(err ?? new Error(`probe --ws under ${contender.label} printed no document: ${stderr.trim().split('\n')[0] ?? ''}`));
      }
      const live = doc.workers.filter((w) => !w.gone).map((w) => w.openAtEnd).sort((a, b) => b - a);
      resolve({ atStart: doc.balance.atStart, atEnd: doc.balance.atEnd, openAtEnd: live, reconnects: doc.disruption?.reconnects ?? 0, unconnected: doc.disruption?.unconnected ?? 0 });
    });
  });
}

/** The median, where null is the largest value (a worker holding none); null when the median is such a run. */
export function medianOrNull(values: ReadonlyArray<number | null>): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b));
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid]!;
  const lo = sorted[mid - 1]!;
  const hi = sorted[mid]!;
  return lo === null || hi === null ? null : (lo + hi) / 2;
}

/** Which policies held the live workers even after the reconnects (within ±10%), which did not: from the medians. */
export function wsPoliciesVerdict(results: ReadonlyArray<Pick<WsPolicyResult, 'label' | 'medianAtEnd'>>): string {
  const even = results.filter((r) => r.medianAtEnd !== null && r.medianAtEnd <= EVEN);
  const uneven = results.filter((r) => !even.includes(r));
  const show = (r: Pick<WsPolicyResult, 'label' | 'medianAtEnd'>) => `${r.label} ${r.medianAtEnd === null ? '∞' : `${r.medianAtEnd.toFixed(2)}×`}`;
  if (uneven.length === 0) return `after a worker was killed and its clients reconnected, every policy held the live workers within ±10% of each other (${results.map(show).join(', ')})`;
  if (even.length === 0) return `after a worker was killed and its clients reconnected, no policy held the live workers within ±10% of each other (${results.map(show).join(', ')})`;
  return `after a worker was killed and its clients reconnected, ${even.map(show).join(', ')} held the live workers within ±10% of each other; ${uneven.map(show).join(', ')} did not (busiest ÷ least busy, median of the runs; ∞: a live worker held none)`;
}
