/**
 * External programs some tests drive for real: Chromium (the browser command), nginx (fleet) and its stream module
 * (fleet --lb l4), and curl (HTTP/2
 * from a client that is not ours).
 * On a developer's machine without them those tests are skipped, and the global setup says so once, with the
 * fix. In CI (`CI` set, or CLUSTER_DEMO_REQUIRE_EXTERNAL=1) a missing program fails the run instead: .ci/run
 * installs them, so a skip there would hide a broken install.
 * Not a test file (vitest only collects *.test.ts).
 */
import { findBrowser, findNginx, findOnPath } from '../src/external/find-program.js';
import { findStreamModule } from '../src/external/nginx-stream.js';

export interface ExternalProgram {
  /** What the tests that need it are called in the skip line. */
  tests: string;
  path: string | undefined;
  /** Where we looked, and how to get it. */
  missing: string;
}

/** Found exactly as the commands find them: the tests skip (or fail in CI) where the command would say "not found". */
function found(find: () => string): Pick<ExternalProgram, 'path' | 'missing'> {
  try {
    return { path: find(), missing: '' };
  } catch (error) {
    return { path: undefined, missing: (error as Error).message.replace(/ or pass \{\w+\} <file>$/, '') };
  }
}

export const chromium: ExternalProgram = { tests: 'browser tests', ...found(() => findBrowser(undefined).path) };

export const nginx: ExternalProgram = { tests: 'nginx (fleet) tests', ...found(() => findNginx(undefined)) };

/** nginx with its stream module (fleet --lb l4): Debian and Ubuntu ship it apart, as libnginx-mod-stream. */
export const nginxStream: ExternalProgram = {
  tests: 'nginx stream (fleet --lb l4) tests',
  ...found(() => {
    const nginxPath = findNginx(undefined);
    findStreamModule(nginxPath);
    return nginxPath;
  }),
};

export const curl: ExternalProgram = {
  tests: 'curl (HTTP/2) tests',
  path: findOnPath(['curl']),
  missing: 'no curl found on PATH; install it with: apt-get install curl',
};

export const externalRequired = Boolean(process.env.CI) || process.env.CLUSTER_DEMO_REQUIRE_EXTERNAL === '1';
