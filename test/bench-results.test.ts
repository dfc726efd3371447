/** The bench never eats its results: only a full run writes bench/RESULTS.md (bench/lib/render.ts). */
import { describe, expect, it } from 'vitest';
import { resultsFile } from '../bench/lib/render.js';

const files = { full: 'bench/RESULTS.md', partial: 'bench/out/RESULTS-partial.md' };

describe('resultsFile', () => {
  it('a full run writes RESULTS.md; --rows or --quick write beside it', () => {
    expect(resultsFile({ rowsAsked: null, quick: false }, files)).toBe(files.full);
    expect(resultsFile({ rowsAsked: ['4'], quick: true }, files)).toBe(files.partial);
    expect(resultsFile({ rowsAsked: ['1', '6'], quick: false }, files)).toBe(files.partial);
    expect(resultsFile({ rowsAsked: null, quick: true }, files)).toBe(files.partial);
  });
});
