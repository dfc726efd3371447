/** The respawn decision, a pure function: literal uptimes, counts and delays (100 ms × 1.5^k, capped at 15 s). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, respawnDecision } from '../src/cluster/backoff.js';

describe('respawnDecision', () => {
  it('a worker that dies soon after starting waits 100, 150, 225, 338 ms … as its slot keeps failing', () => {
    expect(respawnDecision(500, false, 0)).toEqual({ delayMs: 100, quickDeaths: 1 });
    expect(respawnDecision(500, false, 1)).toEqual({ delayMs: 150, quickDeaths: 2 });
    expect(respawnDecision(500, false, 2)).toEqual({ delayMs: 225, quickDeaths: 3 });
    expect(respawnDecision(500, false, 3)).toEqual({ delayMs: 338, quickDeaths: 4 });
  });

  it('never waits more than maxMs (15 s): 100 × 1.5^12 = 12975, 1.5^13 would be 19462', () => {
    expect(respawnDecision(10, false, 12)).toEqual({ delayMs: 12975, quickDeaths: 13 });
    expect(respawnDecision(10, false, 13)).toEqual({ delayMs: 15000, quickDeaths: 14 });
  });

  it('a worker that stayed up 30 s or more is replaced at once, and its slot starts over', () => {
    expect(respawnDecision(30_000, false, 7)).toEqual({ delayMs: 0, quickDeaths: 0 });
    expect(respawnDecision(29_999, false, 7)).toEqual({ delayMs: 1709, quickDeaths: 8 });
  });

  it('a deliberate kill (chaos) is replaced at once and does not count as a quick death', () => {
    expect(respawnDecision(200, true, 3)).toEqual({ delayMs: 0, quickDeaths: 3 });
  });

  it('takes other settings', () => {
    expect(respawnDecision(5, false, 2, { ...DEFAULT_BACKOFF, initialMs: 50, factor: 2, maxMs: 150 })).toEqual({ delayMs: 150, quickDeaths: 3 });
  });
});
