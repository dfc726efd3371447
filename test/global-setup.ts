/**
 * Runs once before the suite:
 * - builds dist/ (tsc, then the assets and the dashboard's bundled script), because the clusters the tests start run their workers from dist/:
 *   running vitest straight after editing src/ never tests stale code;
 * - says which tests are skipped for a missing program and why, or, in CI, fails the run (see external.ts).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, curl, externalRequired, nginx, nginxStream } from './external.js';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');

function build(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = (args: string[]): void => {
    execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  };
  try {
    run([tsc, '-p', 'tsconfig.json']);
    run([path.join('scripts', 'copy-assets.mjs')]);
    run([path.join('scripts', 'build-dashboard.mjs')]);
  } catch {
    throw new Error('the build failed (tsc -p tsconfig.json, above): the tests run their workers from dist/');
  }
}

export default function setup(): void {
  build();
  // Without nginx, the stream tests' line would only repeat nginx's.
  const missing = [chromium, nginx, ...(nginx.path ? [nginxStream] : []), curl].filter((program) => program.path === undefined);
  for (const program of missing) {
    if (externalRequired) throw new Error(`CI requires the ${program.tests}, but ${program.missing}`);
    console.warn(`skipping the ${program.tests}: ${program.missing}`);
  }
}
