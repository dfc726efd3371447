/** The interval and the verdict rule, with literal numbers (src/statistics/interval.ts). */
import { describe, expect, it } from 'vitest';
import { binomialHalfCdf, differenceState, goalState, medianInterval, MIN_PAIRS_95 } from '../src/statistics/interval.js';

describe('medianInterval: exact order-statistic 95% interval of the median', () => {
  it('binomial tail: P(B(6,½) ≤ 0) = 1/64, P(B(10,½) ≤ 1) = 11/1024, P(B(10,½) ≤ 2) = 56/1024', () => {
    expect(binomialHalfCdf(6, 0)).toBeCloseTo(1 / 64, 12);
    expect(binomialHalfCdf(10, 1)).toBeCloseTo(11 / 1024, 12);
    expect(binomialHalfCdf(10, 2)).toBeCloseTo(56 / 1024, 12);
    expect(binomialHalfCdf(4, 4)).toBe(1);
  });

  it('fewer than 6 values: no 95% interval (5 values: [min, max] covers only 93.75%)', () => {
    expect(MIN_PAIRS_95).toBe(6);
    expect(medianInterval([1, 2, 3, 4, 5])).toBeNull();
    expect(medianInterval([])).toBeNull();
    expect(medianInterval([1, 2, 3, 4, 5], 0.9)).toEqual({ low: 1, high: 5, coverage: 0.9375 });
  });

  it('6 values: [min, max], 96.9%; 10 values: the 2nd and 9th, 97.85%; 11 values: still the 2nd and 10th (the 3rd and 9th cover 93.5%)', () => {
    expect(medianInterval([0.97, 1.02, 0.99, 1.05, 0.96, 1.0])).toEqual({ low: 0.96, high: 1.05, coverage: 1 - 2 / 64 });
    const ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    expect(medianInterval(ten)).toEqual({ low: 2, high: 9, coverage: 1 - 22 / 1024 });
    const eleven = [...ten, 11];
    const got = medianInterval(eleven)!;
    expect([got.low, got.high]).toEqual([2, 10]);
    expect(got.coverage).toBeCloseTo(1 - 24 / 2048, 12);
  });

  it('ignores values that are not finite (a pair whose CPU was unreadable)', () => {
    expect(medianInterval([1, 2, NaN, 3, 4, 5, 6, Infinity])).toEqual({ low: 1, high: 6, coverage: 1 - 2 / 64 });
  });
});

describe('goalState: a goal is judged on the whole interval', () => {
  const atLeast = { op: '>=' as const, value: 0.95 };
  const atMost = { op: '<=' as const, value: 1.25 };
  it('a clear pass: the interval clears the goal', () => {
    expect(goalState({ low: 0.96, high: 1.05, coverage: 0.97 }, atLeast)).toBe('pass');
    expect(goalState({ low: 1.1, high: 1.2, coverage: 0.97 }, atMost)).toBe('pass');
  });
  it('a clear miss: the interval lies wholly on the wrong side', () => {
    expect(goalState({ low: 0.8, high: 0.94, coverage: 0.97 }, atLeast)).toBe('miss');
    expect(goalState({ low: 1.3, high: 1.6, coverage: 0.97 }, atMost)).toBe('miss');
  });
  it('a straddle: inconclusive, whatever the median (7a on Node 20: 0.921×, 0.855–1.291)', () => {
    expect(goalState({ low: 0.855, high: 1.291, coverage: 0.97 }, { op: '>=', value: 0.97 })).toBe('inconclusive');
    expect(goalState({ low: 1.2, high: 1.3, coverage: 0.97 }, atMost)).toBe('inconclusive');
    expect(goalState(null, atLeast)).toBe('inconclusive');
  });
  it('the boundary counts as met: exactly 0.950 at the low end passes ≥ 0.95', () => {
    expect(goalState({ low: 0.95, high: 1.0, coverage: 0.97 }, atLeast)).toBe('pass');
  });
});

describe('differenceState', () => {
  it('above 1, below 1, or across it; around 0 for differences', () => {
    expect(differenceState({ low: 1.02, high: 1.3, coverage: 0.97 })).toBe('higher');
    expect(differenceState({ low: 0.7, high: 0.98, coverage: 0.97 })).toBe('lower');
    expect(differenceState({ low: 0.97, high: 1.04, coverage: 0.97 })).toBe('no-difference');
    expect(differenceState(null)).toBe('no-difference');
    expect(differenceState({ low: -6.8, high: 7.3, coverage: 0.97 }, 0)).toBe('no-difference');
  });
});
