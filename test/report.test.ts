import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { differenceState } from '../src/statistics/interval.js';
import type { CompareResult, ContenderSummary, WorkloadResult } from '../src/compare/runner.js';
import type { ProbeResult } from '../src/probe/run.js';
import { workloadVerdict } from '../src/report/compare-report.js';
import { renderProgressLine } from '../src/report/progress-line.js';
import { renderMigrateNote } from '../src/report/probe-report.js';
import { makeChalk } from '../src/report/style.js';

const plain = makeChalk(false);

describe('live progress line', () => {
  const progress = {
    path: '/pid',
    completed: 1500,
    total: 2000,
    elapsedMs: 500,
    ok: 1498,
    failed: 2,
    perPid: [
      { pid: 4321, requests: 700 },
      { pid: 1234, requests: 800 },
    ],
  };

  it('shows progress, req/s, failures and per-PID counts, PIDs in order', () => {
    expect(renderProgressLine(progress, plain, 100)).toBe('/pid 1,500/2,000 · 3,000 req/s · 2 failed · 1234:800 4321:700');
  });

  it('cuts the PID list, never the counters, to fit a narrow terminal', () => {
    const line = renderProgressLine(progress, plain, 50);
    expect(line).toBe('/pid 1,500/2,000 · 3,000 req/s · 2 failed · 1234:…');
    expect(line.length).toBeLessThanOrEqual(50);
    expect(renderProgressLine(progress, plain, 20)).toBe('/pid 1,500/2,000 · 3,000 req/s · 2 failed');
  });

  it('measures width without colour codes', () => {
    const coloured = renderProgressLine(progress, new Chalk({ level: 1 }), 50);
    expect(coloured).toContain('\x1b[');
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, '')).toBe(renderProgressLine(progress, plain, 50));
  });

  it('shows elapsed and planned time for --duration runs', () => {
    expect(renderProgressLine({ ...progress, total: undefined, durationMs: 10_000, failed: 0, perPid: [] }, plain)).toBe('/pid 1,500 (0.5/10 s) · 3,000 req/s');
  });
});

describe('reuseport migration note', () => {
  /** Only the fields the note reads; the rest of a ProbeResult does not matter to it. */
  const result = (over: Partial<ProbeResult>, errors: Record<string, number>, retries: number): ProbeResult =>
    ({ policy: 'reuseport', tcpMigrateReq: 0, chaos: { intervalMs: 500, deaths: [], unattributedFailures: 0 }, reload: null, routes: [{ errors, retries }], ...over }) as unknown as ProbeResult;

  it('names what was measured and both ways out when resets were seen with tcp_migrate_req = 0', () => {
    expect(renderMigrateNote(result({}, { ECONNRESET: 94, timeout: 1 }, 0), plain)).toEqual([
      "note: reuseport with net.ipv4.tcp_migrate_req = 0 (94 reset): the connections queued on a worker's socket are reset when it",
      'closes or dies; sysctl -w net.ipv4.tcp_migrate_req=1 moves them to another worker, --retries 1 sends them again',
    ]);
    expect(renderMigrateNote(result({ chaos: null, reload: { replaced: [], durationMs: 500, steps: [] } }, {}, 12), plain)[0]).toContain('(12 retried)');
    expect(renderMigrateNote(result({}, { ECONNRESET: 3 }, 9), plain)[0]).toContain('(3 reset, 9 retried)');
  });

  it('says nothing without resets, with migration on, under other policies, or without chaos or reload', () => {
    expect(renderMigrateNote(result({}, { timeout: 2 }, 0), plain)).toEqual([]);
    expect(renderMigrateNote(result({ tcpMigrateReq: 1 }, { ECONNRESET: 5 }, 0), plain)).toEqual([]);
    expect(renderMigrateNote(result({ policy: 'rr', tcpMigrateReq: null }, { ECONNRESET: 5 }, 0), plain)).toEqual([]);
    expect(renderMigrateNote(result({ chaos: null }, { ECONNRESET: 5 }, 0), plain)).toEqual([]);
  });
});

describe('compare verdicts, read from the interval of the per-run ratios (the bench\'s rule)', () => {
  const side = (workersSeen: number, rps: number): ContenderSummary => ({
    label: '', rps, latencyMs: { p50: 1, p99: 2, max: 3 }, failed: 0, workersSeen, fairness: { jain: workersSeen === 2 ? 1 : 0.5, maxMinRatio: workersSeen === 2 ? 1 : null },
    rpsRange: { min: rps, max: rps }, runsRps: [rps], generator: { cpuUserMs: 1, cpuSystemMs: 1, cpuPerRequestUs: 1, coreShare: 0.1 },
  });
  const result = (mode: CompareResult['mode'], runs = 6) => ({ mode, cores: 2, workers: 2, runs, concurrency: 50, n: 1000, workloads: [] }) as unknown as CompareResult;
  const workload = (a: number, b: number, interval: [number, number] | null, name: WorkloadResult['name'] = 'light'): WorkloadResult => {
    const ratioInterval = interval && { low: interval[0], high: interval[1], coverage: 0.9688 };
    return { name, description: 'GET /pid', a: side(1, a), b: side(2, b), ratio: b / a, ratioRange: { min: b / a, max: b / a }, spreadExceedsDifference: false, ratioInterval, difference: differenceState(ratioInterval) };
  };

  it('keep-alive vs close: new connections faster (the interval wholly above 1)', () => {
    expect(workloadVerdict(result('keepalive-vs-close'), workload(6249, 7312, [1.08, 1.25]))).toBe(
      "light: keep-alive reached 1 worker, a new connection per request reached 2; new connections did more req/s (1.17×, 95% interval 1.08–1.25×), with more workers at work, although each new connection costs a handshake and, under rr, the primary's hand-off",
    );
  });

  it('keep-alive vs close: keep-alive faster (wholly below 1)', () => {
    expect(workloadVerdict(result('keepalive-vs-close'), workload(8000, 5600, [0.62, 0.77]))).toBe(
      "light: keep-alive reached 1 worker, a new connection per request reached 2; keep-alive did more req/s (0.70×, 95% interval 0.62–0.77×): each new connection costs a handshake and, under rr, the primary's hand-off",
    );
  });

  it('a straddle: no difference this run can show, whatever the median says', () => {
    expect(workloadVerdict(result('keepalive-vs-close'), workload(6000, 7200, [0.95, 1.31]))).toBe(
      'light: keep-alive reached 1 worker, a new connection per request reached 2; no difference this run can show (1.20×, 95% interval 0.95–1.31×)',
    );
  });

  it('single vs cluster: faster, slower, or no difference; too few runs say how many are needed', () => {
    expect(workloadVerdict(result('single-vs-cluster'), workload(100, 190, [1.8, 1.97], 'heavy'))).toBe('heavy: the cluster (policy rr) is faster (1.90×, 95% interval 1.80–1.97×); the limit on this machine: 2 cores');
    expect(workloadVerdict(result('single-vs-cluster'), workload(1000, 700, [0.6, 0.8]))).toContain('light: the cluster (policy rr) is slower (0.70×, 95% interval 0.60–0.80×): with rr the primary accepts every connection');
    expect(workloadVerdict(result('single-vs-cluster', 3), workload(1000, 1300, null))).toBe(
      'light: the cluster (policy rr): no difference this run can show (1.30×, 3 runs: too few for a 95% interval (6 or more: --runs 6)); on 2 cores the generator, the primary and the workers share CPUs',
    );
  });
});
