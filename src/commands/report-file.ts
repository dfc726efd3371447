/**
 * `--report <file.html>`: checked before any load is sent (a path that cannot be written is one line, exit 1),
 * written once the run is over, beside the usual output (stdout stays the terminal report or --json).
 */
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExpectedError, UsageError } from '../core/errors.js';
import type { ReportContext } from '../report/html/page.js';

export interface ReportFile {
  path: string;
  write(html: string): void;
}

function writable(file: string): string | null {
  try {
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) return 'it is a directory';
    accessSync(statSync(file, { throwIfNoEntry: false }) ? file : path.dirname(file), constants.W_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${path.dirname(file)} does not exist` : code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message);
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
      writeFileSync(file, html);
      process.stderr.write(`report: ${file}\n`);
    },
  };
}

/** The run's facts for the report's header. */
export function reportContext(argv: readonly string[] = process.argv): ReportContext {
  return { command: ['cluster-demo', ...argv.slice(2)].join(' '), generatedAt: new Date().toISOString(), node: process.version, cores: os.availableParallelism() };
}
