import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MissingBuildError } from './errors.js';

/**
 * A file of the build: `besideWhenBuilt`, relative to the calling module (`caller`, its import.meta.url) once it
 * runs from dist/; `fromSources` when the sources run as TypeScript (under vitest), which points into dist/ too.
 * Missing (a clone that was not built) → MissingBuildError, one line.
 */
export function builtFile(caller: string, besideWhenBuilt: string, fromSources: string): string {
  const file = fileURLToPath(new URL(caller.endsWith('.ts') ? fromSources : besideWhenBuilt, caller));
  if (!existsSync(file)) throw new MissingBuildError(file);
  return file;
}
