import { ExpectedError } from '../core/errors.js';
import { findOnPath, isExecutableFile } from '../external/find-program.js';

/** The names Chromium and Chrome are installed under on Linux distributions and by Google's packages. */
export const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'] as const;

export interface FoundBrowser {
  path: string;
  /** Where it was found, for the report. */
  via: '--browser-path' | 'CHROME_PATH' | 'PATH';
}

/**
 * The browser to drive: --browser-path, then CHROME_PATH, then the usual names on PATH. Nothing is ever
 * downloaded. Not found → one line naming where we looked and how to get one (exit 1).
 */
export function findBrowser(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): FoundBrowser {
  if (explicit !== undefined) {
    if (isExecutableFile(explicit)) return { path: explicit, via: '--browser-path' };
    throw new ExpectedError(`{browserPath} ${explicit} is not an executable file; point it at Chromium or Chrome (e.g. /usr/bin/chromium)`);
  }
  const fromEnv = env.CHROME_PATH;
  // Set but wrong is a mistake to name, not a reason to quietly drive another browser than the one asked for.
  if (fromEnv) {
    if (isExecutableFile(fromEnv)) return { path: fromEnv, via: 'CHROME_PATH' };
    throw new ExpectedError(`CHROME_PATH=${fromEnv} is not an executable file; point it at Chromium or Chrome (e.g. /usr/bin/chromium), or unset it to search PATH`);
  }
  const onPath = findOnPath(BROWSER_NAMES, [], env);
  if (onPath) return { path: onPath, via: 'PATH' };
  throw new ExpectedError(
    `no Chromium or Chrome found: CHROME_PATH is not set and none of ${BROWSER_NAMES.join(', ')} is on PATH; install one (e.g. apt-get install chromium) or pass {browserPath} <file>`,
  );
}
