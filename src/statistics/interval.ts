/**
 * What a set of paired measurements may claim. The figure is the median of the per-pair values (ratios, or
 * differences); its 95% interval is the exact, distribution-free order-statistic interval for a median: sorted,
 * [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] with the largest k whose coverage, 1 − 2·P(Binomial(n, ½) ≤ k − 1), is still at least 95%. It
 * assumes only that the pairs are independent draws; it needs 6 pairs (with 5, even [min, max] covers 93.75%).
 * A verdict is read from the interval, never from the median alone: a goal is met when the whole interval clears
 * it, missed when the whole interval lies on the wrong side, and otherwise this run cannot say (inconclusive).
 * Pure; tested with literal numbers.
 */

export interface Interval {
  low: number;
  high: number;
  /** The interval's exact coverage (≥ the level asked for), e.g. 0.9785 for 10 pairs. */
  coverage: number;
}

export const INTERVAL_LEVEL = 0.95;
/** The fewest pairs with which a 95% interval for the median exists. */
export const MIN_PAIRS_95 = 6;
export const INTERVAL_NAME = 'exact order-statistic 95% interval of the median';

/** P(Binomial(n, ½) ≤ j). */
export function binomialHalfCdf(n: number, j: number): number {
  if (j < 0) return 0;
  let term = 2 ** -n; // C(n, 0) / 2ⁿ
  let sum = term;
  for (let i = 1; i <= Math.min(j, n); i++) {
    term = (term * (n - i + 1)) / i;
    sum += term;
  }
  return Math.min(1, sum);
}

/** The interval for the median of `values`, or null when there are too few of them for `level`. */
export function medianInterval(values: readonly number[], level = INTERVAL_LEVEL): Interval | null {
  const finite = values.filter((v) => Number.isFinite(v));
  const n = finite.length;
  let k = 0;
  // k grows while the interval [x₍ₖ₊₁₎, x₍ₙ₋ₖ₎] still covers at least `level`.
  while (k + 1 <= Math.floor(n / 2) && 1 - 2 * binomialHalfCdf(n, k) >= level) k++;
  if (k === 0) return null;
  const sorted = [...finite].sort((a, b) => a - b);
  return { low: sorted[k - 1]!, high: sorted[n - k]!, coverage: 1 - 2 * binomialHalfCdf(n, k - 1) };
}

export interface Goal {
  op: '>=' | '<=';
  value: number;
}

export type GoalState = 'pass' | 'miss' | 'inconclusive';

/** pass: the whole interval meets the goal; miss: the whole interval fails it; otherwise inconclusive. */
export function goalState(interval: Interval | null, goal: Goal): GoalState {
  if (!interval) return 'inconclusive';
  if (goal.op === '>=') return interval.low >= goal.value ? 'pass' : interval.high < goal.value ? 'miss' : 'inconclusive';
  return interval.high <= goal.value ? 'pass' : interval.low > goal.value ? 'miss' : 'inconclusive';
}

export type Difference = 'higher' | 'lower' | 'no-difference';

/** Where the interval lies against `reference` (1 for a ratio, 0 for a difference): wholly above, below, or across. */
export function differenceState(interval: Interval | null, reference = 1): Difference {
  if (!interval) return 'no-difference';
  if (interval.low > reference) return 'higher';
  if (interval.high < reference) return 'lower';
  return 'no-difference';
}
