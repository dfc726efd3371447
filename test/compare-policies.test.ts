/** compare --policies: the order of runs and the verdict as pure functions, then the real thing end to end. */
import { describe, expect, it } from 'vitest';
import { policiesVerdict, runOrder, type PoliciesResult, type PolicyResult } from '../src/compare/policies.js';
import { supportsReusePort } from '../src/cluster/policy.js';
import { runCli } from './helpers.js';
import { expectSchema } from './schema.js';

function result(policy: PolicyResult['policy'], rps: number, vsSingle: number, p50 = 1, interval: [number, number] | null = null): PolicyResult {
  return {
    policy,
    rps,
    vsSingle,
    vsSingleInterval: interval && { low: interval[0], high: interval[1], coverage: 0.9688 },
    latencyMs: { p50, p99: p50 * 3, max: p50 * 4 },
    failed: 0,
    workersSeen: policy === 'single' ? 1 : 2,
    fairness: { jain: 1, maxMinRatio: 1 },
    rpsRange: { min: rps, max: rps },
    runsRps: [rps],
    generator: { cpuUserMs: 1, cpuSystemMs: 1, cpuPerRequestUs: 100, coreShare: 0.5 },
  };
}

describe('runOrder', () => {
  it('rotates every run and reverses every other one, so each contender runs early and late', () => {
    expect([0, 1, 2, 3].map((run) => runOrder(4, run))).toEqual([
      [0, 1, 2, 3],
      [0, 3, 2, 1],
      [2, 3, 0, 1],
      [2, 1, 0, 3],
    ]);
  });
});

describe('policiesVerdict', () => {
  const light = [result('single', 10_000, 1), result('rr', 4_500, 0.45, 1, [0.41, 0.5]), result('none', 9_500, 0.95, 1, [0.9, 0.99]), result('reuseport', 10_100, 1.01, 1, [0.97, 1.04])];

  it('light: every policy with its interval; the costliest (and cheapest) named only when its interval clears every other', () => {
    expect(policiesVerdict({ name: 'light', results: light }, 2, 2)).toBe(
      'light: vs one process — rr 0.45× (0.41–0.50), none 0.95× (0.90–0.99), reuseport 1.01× (0.97–1.04): rr costs the most (the primary accepts every connection and hands it to a worker over IPC); between none and reuseport no difference this run can show',
    );
    const apart = [result('single', 10_000, 1), result('rr', 4_500, 0.45, 1, [0.41, 0.5]), result('none', 8_000, 0.8, 1, [0.7, 0.85]), result('reuseport', 10_100, 1.01, 1, [0.97, 1.04])];
    expect(policiesVerdict({ name: 'light', results: apart }, 2, 2)).toBe(
      'light: vs one process — rr 0.45× (0.41–0.50), none 0.80× (0.70–0.85), reuseport 1.01× (0.97–1.04): rr costs the most (the primary accepts every connection and hands it to a worker over IPC), reuseport the least (a socket per worker, the kernel spreads connections, the primary is out of the path)',
    );
  });

  it('overlapping intervals rank nothing; too few runs say so; heavy names the limit', () => {
    const even = [result('single', 100, 1), result('rr', 100, 1, 1, [0.9, 1.1]), result('none', 115, 1.15, 1, [1.05, 1.3])];
    expect(policiesVerdict({ name: 'light', results: even }, 2, 2)).toBe('light: vs one process — rr 1.00× (0.90–1.10), none 1.15× (1.05–1.30): their 95% intervals overlap: no difference between the policies this run can show');
    const fewRuns = [result('single', 100, 1), result('rr', 50, 0.5), result('none', 100, 1)];
    expect(policiesVerdict({ name: 'light', results: fewRuns }, 2, 2)).toBe('light: vs one process — rr 0.50×, none 1.00×: too few runs for 95% intervals (6 or more: --runs 6): this run cannot rank the policies');
    expect(policiesVerdict({ name: 'heavy', results: even }, 4, 2)).toBe('heavy: vs one process — rr 1.00× (0.90–1.10), none 1.15× (1.05–1.30): the limit on this machine is 2× (min(workers 4, cores 2))');
  });

  it('mixed: /pid latency while a worker is busy, fastest and slowest', () => {
    const mixed = [result('single', 80, 1, 50), result('rr', 1100, 14, 1.06), result('none', 1500, 19, 0.4), result('reuseport', 150, 1.9, 5.24)];
    expect(policiesVerdict({ name: 'mixed', results: mixed }, 2, 2)).toBe(
      'mixed: /pid p50 while a worker is busy — single 50.00 ms, rr 1.06 ms, none 0.40 ms, reuseport 5.24 ms: fastest with none (an idle worker accepts first), slowest with reuseport (the kernel picks a socket by hash, busy worker or not)',
    );
  });
});

describe('compare --policies, end to end', () => {
  it('one process, rr, none and (where this Node has it) reuseport, over light, heavy and mixed, as JSON', async () => {
    const run = await runCli(['compare', '--policies', '--workers', '2', '--runs', '1', '--requests', '120', '--n', '2000000', '--json'], { timeoutMs: 90_000 });
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as PoliciesResult;
    expectSchema('compare', doc);
    expect(doc).toMatchObject({ mode: 'policies', workers: 2, runs: 1 });
    const expected = supportsReusePort() ? ['single', 'rr', 'none', 'reuseport'] : ['single', 'rr', 'none'];
    expect(doc.skipped.map((s) => s.policy)).toEqual(supportsReusePort() ? [] : ['reuseport']);
    expect(doc.workloads.map((w) => w.name)).toEqual(['light', 'heavy', 'mixed']);
    for (const w of doc.workloads) {
      expect(w.results.map((r) => r.policy)).toEqual(expected);
      for (const r of w.results) {
        expect(r).toMatchObject({ failed: 0, workersSeen: r.policy === 'single' ? 1 : 2 });
        expect(r.rps).toBeGreaterThan(0);
        expect(Object.keys(r.latencyMs)).toEqual(['p50', 'p99', 'max']);
        expect(Object.keys(r.fairness)).toEqual(['jain', 'maxMinRatio']);
        expect(r.rpsRange.min).toBeLessThanOrEqual(r.rpsRange.max);
        expect(r.generator.cpuPerRequestUs).toBeGreaterThan(0);
      }
      expect(w.results[0]!.vsSingle).toBe(1);
      expect(w.verdict.startsWith(`${w.name}: `)).toBe(true);
    }
  });
});
