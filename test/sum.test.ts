import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_N } from '../src/cluster/handler.js';
import { parseN, sumTo } from '../src/cluster/sum.js';

const exact = (n: number) => (BigInt(n) * BigInt(n + 1)) / 2n;

describe('sumTo', () => {
  it.each([
    [0, '0'],
    [1, '1'],
    [10, '55'],
    [1e6, '500000500000'],
    [1e9, '500000000500000000'],
    [5e9, '12500000002500000000'],
  ])('sumTo(%d) is exactly n(n+1)/2 = %s', (n, spelled) => {
    const got = sumTo(n);
    expect(typeof got).toBe('bigint');
    expect(got).toBe(exact(n));
    expect(got.toString()).toBe(spelled);
  });

  it('rejects n it cannot count exactly', () => {
    expect(() => sumTo(-1)).toThrow(RangeError);
    expect(() => sumTo(1.5)).toThrow(RangeError);
    expect(() => sumTo(Number.MAX_SAFE_INTEGER + 1)).toThrow(RangeError);
  });
});

describe('parseN', () => {
  const maxN = DEFAULT_MAX_N;

  it.each(['abc', '-1', '1.5', '1e3', '0x10', '', ' 1', '+1'])('rejects %j', (raw) => {
    const parsed = parseN(raw, maxN);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason.length).toBeGreaterThan(0);
  });

  it('accepts leading zeros: "007" is 7', () => {
    expect(parseN('007', maxN)).toEqual({ ok: true, n: 7, requested: '007', clamped: false });
  });

  it('accepts maxN itself without clamping', () => {
    expect(parseN(String(maxN), maxN)).toEqual({ ok: true, n: maxN, requested: String(maxN), clamped: false });
  });

  it('clamps above maxN (default maxN is the seed\'s 5000000000)', () => {
    expect(DEFAULT_MAX_N).toBe(5_000_000_000);
    expect(parseN('9000000000', maxN)).toEqual({ ok: true, n: maxN, requested: '9000000000', clamped: true });
    expect(parseN('11', 10)).toEqual({ ok: true, n: 10, requested: '11', clamped: true });
  });

  it('rejects a 400-digit number with a short reason', () => {
    const parsed = parseN('9'.repeat(400), maxN);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toMatch(/too large/);
      expect(parsed.reason.length).toBeLessThan(200);
    }
  });

  it('keeps the echo of a long invalid value bounded', () => {
    const parsed = parseN('x'.repeat(10_000), maxN);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason.length).toBeLessThan(200);
  });
});
