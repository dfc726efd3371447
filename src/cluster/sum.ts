/**
 * The CPU work behind `GET /api/:n`: the sum 0 + 1 + … + n, computed by a loop (the loop *is* the point of
 * the route: it keeps one core busy for a predictable time), but exact.
 *
 * The seed's `count += i` in a Number loses precision once the running total passes 2^53 (for n = 1e9 it
 * answers 500000000067109000 instead of 500000000500000000). A BigInt loop is exact but ~50× slower per
 * iteration. Instead the loop runs in chunks: inside a chunk the total stays below 2^53, so the inner loop
 * is the seed's plain Number loop at the same cost per iteration, and each chunk's exact partial sum is
 * carried into a BigInt once per 2^20 iterations.
 */

/** The probe's n for /api/:n: about 10 ms of loop on a current x86 core. */
export const DEFAULT_N = 12_000_000;

/** Largest n the chunked loop stays exact for (the route caps n far below this). */
export const MAX_EXACT_N = Number.MAX_SAFE_INTEGER;

/**
 * Iterations per chunk. Partial sums stay below CHUNK × n; with n ≤ 5e9 that is < 5.3e15, under 2^53 ≈ 9e15.
 * For larger n the chunk shrinks so the bound still holds.
 */
function chunkSizeFor(n: number): number {
  const safe = Math.floor(Number.MAX_SAFE_INTEGER / Math.max(1, n));
  return Math.max(1, Math.min(1 << 20, safe));
}

export function sumTo(n: number): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be a safe non-negative integer (got ${n})`);
  const chunk = chunkSizeFor(n);
  let total = 0n;
  for (let start = 0; start <= n; start += chunk) {
    const end = Math.min(n, start + chunk - 1);
    // -0, not 0: the partial sum stays a safe integer, and from Node 26 (V8 14, AdditiveSafeInteger feedback) an
    // accumulator that only ever held safe integers is compiled as a checked 64-bit add, twice the cost per
    // iteration of the double add the seed's loop gets (bench row 4: 1.61 against 0.82 ns; the same with
    // --no-additive-safe-int-feedback: 0.82). Starting from -0, a double no integer feedback covers, keeps the
    // double add on every line; the sum is the same (-0 + i is i).
    let count = -0;
    for (let i = start; i <= end; i++) count += i;
    total += BigInt(count);
  }
  return total;
}

/** The seed's loop, kept only as the baseline the benchmark compares the exact loop against. */
export function seedSumTo(n: number): number {
  let count = 0;
  for (let i = 0; i <= n; i++) count += i;
  return count;
}

export type ParsedN =
  | { ok: true; n: number; requested: string; clamped: boolean }
  | { ok: false; reason: string };

const DIGITS = /^[0-9]+$/;

/** Printable, bounded rendering of what a client sent, for one-line error bodies. */
export function describeRaw(raw: string, max = 40): string {
  const shown = raw.length > max ? `${raw.slice(0, max)}…` : raw;
  return JSON.stringify(shown);
}

/**
 * Validates the `:n` path segment. Only plain decimal digits are accepted: `1e3`, `0x10`, `1.5`, `-1` and
 * empty values are rejected rather than guessed at. A value above maxN is clamped, as in the seed.
 */
export function parseN(raw: string, maxN: number): ParsedN {
  if (raw.length === 0) return { ok: false, reason: 'missing n: use /api/<digits>, e.g. /api/1000000' };
  if (!DIGITS.test(raw)) return { ok: false, reason: `n must be plain decimal digits (got ${describeRaw(raw)})` };
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) {
    return { ok: false, reason: `n is too large (got ${raw.length} digits; at most ${MAX_EXACT_N})` };
  }
  if (value > maxN) return { ok: true, n: maxN, requested: raw, clamped: true };
  return { ok: true, n: value, requested: raw, clamped: false };
}
