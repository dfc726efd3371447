import { describe, expect, it } from 'vitest';
import { classifyExit, type WorkerPhase } from '../src/cluster/worker-state.js';

const listening: WorkerPhase = { name: 'listening' };
const starting: WorkerPhase = { name: 'starting' };
const draining: WorkerPhase = { name: 'draining' };

describe('classifyExit: what a worker exit means to the primary', () => {
  it('a worker that was told to go exits as expected, in any cluster phase', () => {
    expect(classifyExit(draining, 'initial', 'ready', true)).toEqual({ kind: 'expected' });
    expect(classifyExit({ name: 'killed', reason: 'grace', wasDraining: true }, 'reload', 'ready', false)).toEqual({ kind: 'expected' });
    expect(classifyExit(listening, 'respawn', 'stopping', true)).toEqual({ kind: 'expected' });
    expect(classifyExit(starting, 'initial', 'failed', true)).toEqual({ kind: 'expected' });
  });

  it('a death before the cluster was ever ready is fatal (no fork loop at start-up)', () => {
    expect(classifyExit(starting, 'initial', 'starting', true)).toEqual({ kind: 'fatal' });
    expect(classifyExit(listening, 'initial', 'starting', true)).toEqual({ kind: 'fatal' });
  });

  it("a reload's replacement that dies before listening is the reload's to handle", () => {
    expect(classifyExit(starting, 'reload', 'ready', true)).toEqual({ kind: 'replacement-failed' });
    // Once it listened it is an ordinary worker.
    expect(classifyExit(listening, 'reload', 'ready', true)).toEqual({ kind: 'respawn', onPurpose: false });
  });

  it('a crash is respawned with backoff, a chaos kill without', () => {
    expect(classifyExit(listening, 'initial', 'ready', true)).toEqual({ kind: 'respawn', onPurpose: false });
    expect(classifyExit({ name: 'killed', reason: 'chaos', wasDraining: false }, 'respawn', 'ready', true)).toEqual({ kind: 'respawn', onPurpose: true });
  });

  it('a death of a worker its slot no longer counts on is not respawned twice', () => {
    expect(classifyExit(listening, 'initial', 'ready', false)).toEqual({ kind: 'superseded' });
  });
});
