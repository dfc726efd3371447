/** Pure statistics over per-worker request counts and repeated runs. Tested with literal numbers. */

/** Each count's fraction of the total (0 for every entry when the total is 0). */
export function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total === 0 ? 0 : c / total));
}

/**
 * Jain's fairness index, (Σx)² / (n·Σx²): 1 when every worker got the same, 1/n when one got everything.
 * Workers that got nothing must be passed as zeros, or they do not count against fairness.
 */
export function jainIndex(counts: readonly number[]): number {
  if (counts.length === 0) return 0;
  let sum = 0;
  let squares = 0;
  for (const c of counts) {
    sum += c;
    squares += c * c;
  }
  return squares === 0 ? 0 : (sum * sum) / (counts.length * squares);
}

/** Busiest over least busy worker; Infinity when some worker got nothing, NaN with no workers. */
export function maxMinRatio(counts: readonly number[]): number {
  if (counts.length === 0) return NaN;
  const max = Math.max(...counts);
  const min = Math.min(...counts);
  if (max === 0) return NaN;
  return min === 0 ? Infinity : max / min;
}

/** Counts padded with zeros up to `expected` entries: the workers that served nothing. */
export function padWithSilentWorkers(counts: readonly number[], expected: number | undefined): number[] {
  const padded = [...counts];
  while (expected !== undefined && padded.length < expected) padded.push(0);
  return padded;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function minMax(values: readonly number[]): { min: number; max: number } {
  if (values.length === 0) return { min: NaN, max: NaN };
  return { min: Math.min(...values), max: Math.max(...values) };
}

/** Rounds for display and JSON; keeps 0.001 ms (1 µs) resolution where it matters. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * B over A from runs measured side by side (run i of B against run i of A): the median of the per-run ratios,
 * and their min–max. Pairing cancels drift between runs that a ratio of the two medians would keep. Runs where A
 * measured nothing are left out; none left → 0.
 */
/** b[i] / a[i] for every run i measured on both sides (a side with 0 req/s gives no ratio). */
export function perRunRatios(b: readonly number[], a: readonly number[]): number[] {
  return b.flatMap((value, i) => (a[i] !== undefined && a[i]! > 0 ? [value / a[i]!] : []));
}

export function pairedRatio(b: readonly number[], a: readonly number[]): { ratio: number; range: { min: number; max: number } } {
  const ratios = perRunRatios(b, a);
  if (ratios.length === 0) return { ratio: 0, range: { min: 0, max: 0 } };
  return { ratio: round(median(ratios), 3), range: { min: round(Math.min(...ratios), 3), max: round(Math.max(...ratios), 3) } };
}
