import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { renderProgressLine } from '../src/report/live.js';
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
