/**
 * Finding the outside programs some commands drive (Chromium for `browser`, nginx for `fleet`): in a stated
 * order, so that a missing one can be reported in one line that says where we looked.
 */
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
