/**
 * Finding the outside programs some commands drive (Chromium for `browser`, nginx for `fleet`), in one place for
 * the commands and the tests alike: in a stated order, so that a missing one is one line that says where we
 * looked and how to get it.
 */
import { ExpectedError } from '../core/errors.js';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first of `names` found in PATH's directories (then `extraDirs`, e.g. /usr/sbin, which a non-root PATH lacks). */
export function findOnPath(names: readonly string[], extraDirs: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

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

/** Where distributions put nginx; /usr/sbin is missing from a non-root PATH. */
export const NGINX_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin', '/opt/homebrew/bin', '/usr/local/bin'];

export function findNginx(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined) {
    if (isExecutableFile(explicit)) return explicit;
    throw new ExpectedError(`{nginxPath} ${explicit} is not an executable file`);
  }
  const found = findOnPath(['nginx'], NGINX_DIRS, env);
  if (found) return found;
  throw new ExpectedError(`no nginx found on PATH or in ${NGINX_DIRS.slice(0, 3).join(', ')}; install it (e.g. apt-get install nginx) or pass {nginxPath} <file>`);
}
