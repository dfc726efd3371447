/**
 * The bench's verdicts and files (bench/lib/bench.ts, render.ts): a row's state comes from its interval, never
 * from its median alone; only a full run writes a line's results, and RESULTS.md sets the lines side by side;
 * what a pair leaves to clean up (its fresh servers) is stopped after the pair is judged, on failure too.
 */
import { describe, expect, it } from 'vitest';
import { BenchContext, decides, measured, pairStats, ratioStats, type RowSpec } from '../bench/lib/bench.js';
import { renderIndex, resultCell, resultsFile, type BenchResult } from '../bench/lib/render.js';

const dirs = { results: 'bench/results', partial: 'bench/out' };

describe('resultsFile', () => {
  it('a full run writes bench/results/node-N.md; --rows or --quick write beside it', () => {
    expect(resultsFile({ rowsAsked: null, quick: false, nodeMajor: 20 }, dirs)).toBe('bench/results/node-20.md');
    expect(resultsFile({ rowsAsked: null, quick: false, nodeMajor: 24 }, dirs)).toBe('bench/results/node-24.md');
    expect(resultsFile({ rowsAsked: ['4'], quick: true, nodeMajor: 24 }, dirs)).toBe('bench/out/RESULTS-partial.md');
    expect(resultsFile({ rowsAsked: ['1', '6'], quick: false, nodeMajor: 24 }, dirs)).toBe('bench/out/RESULTS-partial.md');
    expect(resultsFile({ rowsAsked: null, quick: true, nodeMajor: 20 }, dirs)).toBe('bench/out/RESULTS-partial.md');
  });
});

describe('pairs', () => {
  const settings = { quick: true, budgetS: 0, workers: 2, cores: 2, pairForeignLimit: 1, extraPairs: 0 };

  it("a pair's cleanup runs once the pair is done, before the next pair starts", async () => {
    const ctx = new BenchContext(settings, () => {});
    const steps: string[] = [];
    const { kept } = await ctx.alternate('g', 'pair', 3, async (flip, later) => {
      steps.push(`run ${flip}`);
      later(async () => steps.push(`clean ${flip}`));
      return flip;
    }, String);
    expect(kept).toEqual([false, true, false]);
    expect(steps).toEqual(['run false', 'clean false', 'run true', 'clean true', 'run false', 'clean false']);
  });

  it('a pair that fails still has its cleanup run, and the failure reaches the row', async () => {
    const ctx = new BenchContext(settings, () => {});
    let cleaned = 0;
    const failing = ctx.alternate('g', 'pair', 2, async (_flip, later) => {
      later(async () => cleaned++);
      throw new Error('the server did not start');
    }, String);
    await expect(failing).rejects.toThrow('the server did not start');
    expect(cleaned).toBe(1);
  });
});

describe('a row is judged on its interval', () => {
  const atLeast: RowSpec = { id: '7a', title: 't', goal: { op: '>=', value: 0.97 }, goalText: '≥ 0.97×', unit: '×', digits: 3 };
  const atMost: RowSpec = { id: '2c', title: 't', goal: { op: '<=', value: 1.1 }, goalText: '≤ 1.10×', unit: '×', digits: 2 };

  it('a clear pass: 6 pairs whose interval [min, max] clears the goal', () => {
    const row = measured(atLeast, ratioStats([[99, 100], [100, 100], [101, 100], [98, 100], [102, 100], [100, 100]]), '');
    expect(row).toMatchObject({ status: 'measured', median: 1, interval: { low: 0.98, high: 1.02 }, pairs: '6', state: 'pass', statistic: 'median of 6 per-pair ratios (req/s)' });
    expect(resultCell(row)).toBe('**pass**');
  });

  it('a clear miss: every pair on the wrong side', () => {
    const row = measured(atMost, pairStats([1.2, 1.25, 1.3, 1.22, 1.27, 1.21], 'ratios (server CPU per request)'), '');
    expect(row).toMatchObject({ state: 'miss', interval: { low: 1.2, high: 1.3 } });
    expect(resultCell(row)).toBe('**MISS**');
  });

  it('a straddle is inconclusive whatever its median: Node 20\'s 7a, 0.921× within 0.855–1.291', () => {
    const row = measured(atLeast, pairStats([0.855, 0.9, 0.921, 0.93, 1.1, 1.291], 'ratios (req/s)', 1, 3), '');
    expect(row).toMatchObject({ state: 'inconclusive', pairs: '6 (+1 discarded, 3 added to decide)' });
    expect(resultCell(row)).toBe('inconclusive');
    expect(decides(atLeast.goal, [0.855, 0.9, 0.921, 0.93, 1.1, 1.291])).toBe(false);
    expect(decides(atLeast.goal, [0.98, 0.99, 1, 1.01, 1.02, 1.03])).toBe(true);
    expect(decides(null, [])).toBe(true);
  });

  it('fewer than 6 pairs: no interval, so no pass and no miss', () => {
    expect(measured(atLeast, ratioStats([[2, 1], [3, 1], [4, 1]]), '')).toMatchObject({ interval: null, state: 'inconclusive' });
  });

  it('a row of single runs (memory) gives its state, and its statistic says there is no interval', () => {
    const spec: RowSpec = { id: '5d', title: 't', goal: { op: '<=', value: 10 }, goalText: '≤ 10 MB', unit: ' MB', digits: 1 };
    expect(measured(spec, { median: 4.2, range: null, pairs: '1 run each', statistic: 'difference of two single runs, MB (no interval)' }, '', 'pass')).toMatchObject({ state: 'pass', interval: null });
    expect(measured({ ...spec, goal: null }, { median: 4.2, range: null, pairs: '1', statistic: 's' }, '', 'pass')).toMatchObject({ state: null });
  });
});

describe('RESULTS.md: every line side by side', () => {
  const line = (node: string, figure: number, low: number, high: number, state: 'pass' | 'inconclusive'): BenchResult => ({
    machine: { date: '2026-11-29T20:00:00Z', cores: 2, cpuModel: 'AMD EPYC', node, platform: 'linux', kernel: '6.1', loadavg: '0', tools: {}, totalSeconds: 1000, foreign: null },
    rowsAsked: null,
    quick: false,
    settings: {},
    runs: {},
    budgetS: 60,
    rows: [{ id: '7a', title: 'Server CPU per request, stats on ÷ off', goal: { op: '<=', value: 1.03 }, goalText: '≤ 1.03×', unit: '×', digits: 3, status: 'measured', median: figure, range: { min: low, max: high }, interval: { low, high, coverage: 0.97 }, pairs: '11', statistic: 's', state, detail: '' }],
  });

  it('a row per id, a column per line (ordered by line), figure [interval] state (pairs)', () => {
    const text = renderIndex([line('v24.22.3', 1.01, 0.99, 1.025, 'pass'), line('v20.20.2', 1.02, 0.97, 1.06, 'inconclusive')]);
    expect(text).toContain('| # | Row | Goal | Node 20 | Node 24 |');
    expect(text).toContain('| 7a | Server CPU per request, stats on ÷ off | ≤ 1.03× | 1.020× [0.970–1.060×] inconclusive (11) | 1.010× [0.990–1.025×] **pass** (11) |');
    expect(text).toContain('[results/node-20.md](results/node-20.md)');
  });
});
