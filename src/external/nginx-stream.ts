/**
 * nginx's `stream` module (TCP pass-through, `fleet --lb l4`): built in, a dynamic module to load, or missing.
 * Debian and Ubuntu build it as a module (`--with-stream=dynamic`) shipped in its own package,
 * libnginx-mod-stream; their /etc/nginx/nginx.conf loads it through modules-enabled/, which the configuration
 * fleet generates does not include, so fleet loads it itself by absolute path.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ExpectedError } from '../core/errors.js';

export type StreamModule = { kind: 'built-in' } | { kind: 'dynamic'; file: string } | { kind: 'missing'; looked: string | null };

export const STREAM_MODULE_FILE = 'ngx_stream_module.so';

/** From `nginx -V`'s output (the configure arguments) and a file check; pure given `exists`. */
export function streamModuleFrom(versionOutput: string, exists: (file: string) => boolean): StreamModule {
  const args = /configure arguments:(.*)/.exec(versionOutput)?.[1]?.trim().split(/\s+/) ?? [];
  if (args.includes('--with-stream')) return { kind: 'built-in' };
  if (!args.includes('--with-stream=dynamic')) return { kind: 'missing', looked: null };
  const modulesPath = args.find((a) => a.startsWith('--modules-path='))?.slice('--modules-path='.length);
  const prefix = args.find((a) => a.startsWith('--prefix='))?.slice('--prefix='.length) ?? '/usr/local/nginx';
  const file = path.join(modulesPath ?? path.join(prefix, 'modules'), STREAM_MODULE_FILE);
  return exists(file) ? { kind: 'dynamic', file } : { kind: 'missing', looked: file };
}

/** The stream module of this nginx, or one line with the fix (exit 1). */
export function findStreamModule(nginxPath: string): Exclude<StreamModule, { kind: 'missing' }> {
  // nginx -V writes its build to stderr.
  const run = spawnSync(nginxPath, ['-V'], { encoding: 'utf8', timeout: 5000 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const found = streamModuleFrom(output, existsSync);
  if (found.kind !== 'missing') return found;
  const where = found.looked ? ` (no ${found.looked})` : ' (built without --with-stream)';
  throw new ExpectedError(`${nginxPath} has no stream module${where}, which {layers} l4 needs for TCP pass-through; install it (Debian/Ubuntu: apt-get install libnginx-mod-stream) or pass {nginxPath} <file>`);
}
