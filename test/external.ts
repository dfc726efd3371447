/**
 * External programs some tests drive for real: Chromium (the browser command) and nginx (fleet).
 * On a developer's machine without them those tests are skipped, and the global setup says so once, with the
 * fix. In CI (`CI` set, or CLUSTER_DEMO_REQUIRE_EXTERNAL=1) a missing program fails the run instead: .ci/run
 * installs them, so a skip there would hide a broken install.
 * Not a test file (vitest only collects *.test.ts).
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export interface ExternalProgram {
  /** What the tests that need it are called in the skip line. */
  tests: string;
  path: string | undefined;
  /** Where we looked, and how to get it. */
  missing: string;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first of `names` found on PATH (and in `extraDirs`, e.g. /usr/sbin, which a non-root PATH lacks). */
export function findOnPath(names: string[], extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (executable(candidate)) return candidate;
    }
  }
  return undefined;
}

const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

export const chromium: ExternalProgram = {
  tests: 'browser tests',
  path: process.env.CHROME_PATH && executable(process.env.CHROME_PATH) ? process.env.CHROME_PATH : findOnPath(BROWSER_NAMES),
  missing: `no Chromium found (CHROME_PATH, then ${BROWSER_NAMES.join(', ')} on PATH); install it with: apt-get install chromium`,
};

export const nginx: ExternalProgram = {
  tests: 'nginx (fleet) tests',
  path: findOnPath(['nginx'], ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin']),
  missing: 'no nginx found (PATH, /usr/sbin, /usr/local/sbin); install it with: apt-get install nginx',
};

export const externalRequired = Boolean(process.env.CI) || process.env.CLUSTER_DEMO_REQUIRE_EXTERNAL === '1';
