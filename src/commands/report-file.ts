/**
 * `--report <file.html>`: checked before any load is sent (a path that cannot be written is one line, exit 1),
 * written once the run is over, beside the usual output (stdout stays the terminal report or --json).
 */
import { closeSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExpectedError, UsageError } from '../core/errors.js';
import type { ReportContext } from '../report/html/page.js';

export interface ReportFile {
  path: string;
  write(html: string): void;
}

function reason(err: unknown, file: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return statSync(path.dirname(file), { throwIfNoEntry: false }) ? `no file can be created in ${path.dirname(file)}` : `${path.dirname(file)} does not exist`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'permission denied';
  if (code === 'ENOSPC') return 'no space left on the device';
  return (err as Error).message;
}

/**
 * Tried for real, not asked: as root access() says yes to /proc and /sys, and /dev/full opens fine and fails
 * only on write. An existing regular file is opened for writing without truncating it; a new one is created
 * and removed again; anything else (a directory, a device, a pipe) is refused.
 */
function writable(file: string): string | null {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return 'it is a directory';
  if (stat && !stat.isFile()) return 'it is not a regular file';
  try {
    closeSync(openSync(file, stat ? 'r+' : 'wx'));
    if (!stat) rmSync(file);
    return null;
  } catch (err) {
    return reason(err, file);
  }
}

/** undefined without --report; otherwise the file, checked now. */
export function reportFile(option: string | undefined, command: string): ReportFile | undefined {
  if (option === undefined) return undefined;
  if (option === '-' || option.trim() === '') throw new UsageError('--report writes a file (e.g. --report report.html); stdout stays the report or --json', command);
  const file = path.resolve(option);
  const problem = writable(file);
  if (problem) throw new ExpectedError(`cannot write the report to ${option}: ${problem}`);
  return {
    path: file,
    write(html) {
      try {
        writeFileSync(file, html);
      } catch (err) {
        throw new ExpectedError(`cannot write the report to ${option}: ${reason(err, file)}`, { cause: err });
      }
      process.stderr.write(`report: ${file}\n`);
    },
  };
}

/** The run's facts for the report's header. */
export function reportContext(argv: readonly string[] = process.argv): ReportContext {
  return { command: ['cluster-demo', ...argv.slice(2)].join(' '), generatedAt: new Date().toISOString(), node: process.version, cores: os.availableParallelism() };
}
