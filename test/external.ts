/**
 * External programs some tests drive for real: Chromium (the browser command), nginx (fleet) and curl (HTTP/2
 * from a client that is not ours).
 * On a developer's machine without them those tests are skipped, and the global setup says so once, with the
 * fix. In CI (`CI` set, or CLUSTER_DEMO_REQUIRE_EXTERNAL=1) a missing program fails the run instead: .ci/run
 * installs them, so a skip there would hide a broken install.
 * Not a test file (vitest only collects *.test.ts).
 */
import { BROWSER_NAMES } from '../src/browser/find.js';
import { findOnPath, isExecutableFile } from '../src/external/find-program.js';

export interface ExternalProgram {
  /** What the tests that need it are called in the skip line. */
  tests: string;
  path: string | undefined;
  /** Where we looked, and how to get it. */
  missing: string;
}

export const chromium: ExternalProgram = {
  tests: 'browser tests',
  path: process.env.CHROME_PATH && isExecutableFile(process.env.CHROME_PATH) ? process.env.CHROME_PATH : findOnPath(BROWSER_NAMES),
  missing: `no Chromium found (CHROME_PATH, then ${BROWSER_NAMES.join(', ')} on PATH); install it with: apt-get install chromium`,
};

export const nginx: ExternalProgram = {
  tests: 'nginx (fleet) tests',
  path: findOnPath(['nginx'], ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin']),
  missing: 'no nginx found (PATH, /usr/sbin, /usr/local/sbin); install it with: apt-get install nginx',
};

export const curl: ExternalProgram = {
  tests: 'curl (HTTP/2) tests',
  path: findOnPath(['curl']),
  missing: 'no curl found on PATH; install it with: apt-get install curl',
};

export const externalRequired = Boolean(process.env.CI) || process.env.CLUSTER_DEMO_REQUIRE_EXTERNAL === '1';
