/**
 * Runs once before the suite: says which tests are skipped for a missing program and why, or, in CI, fails
 * the run (see external.ts).
 */
import { chromium, externalRequired, nginx } from './external.js';

export default function setup(): void {
  const missing = [chromium, nginx].filter((program) => program.path === undefined);
  for (const program of missing) {
    if (externalRequired) throw new Error(`CI requires the ${program.tests}, but ${program.missing}`);
    console.warn(`skipping the ${program.tests}: ${program.missing}`);
  }
}
