import { describe, expect, it } from 'vitest';
import { addCpu, generatorCost } from '../src/statistics/generator.js';

describe('generatorCost', () => {
  it('CPU per request and the share of one core, from process.cpuUsage() deltas in µs', () => {
    // 600 ms user + 300 ms system over 2000 requests in 1.2 s of wall time: 450 µs each, 75% of a core.
    expect(generatorCost({ user: 600_000, system: 300_000 }, 2000, 1200)).toEqual({ cpuUserMs: 600, cpuSystemMs: 300, cpuPerRequestUs: 450, coreShare: 0.75 });
  });

  it('no requests or no time: zeros, never NaN or Infinity', () => {
    expect(generatorCost({ user: 1000, system: 0 }, 0, 0)).toEqual({ cpuUserMs: 1, cpuSystemMs: 0, cpuPerRequestUs: 0, coreShare: 0 });
  });

  it('adds deltas', () => {
    expect(addCpu({ user: 1, system: 2 }, { user: 10, system: 20 })).toEqual({ user: 11, system: 22 });
  });
});
