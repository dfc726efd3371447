/**
 * How a user's app becomes the cluster's worker (`serve --app`): its entry file is the worker's main module
 * (cluster.setupPrimary's `exec`, so its process.argv[1] and import.meta.url are its own), with its arguments
 * and working directory, the agent preloaded (`--import`), and type stripping for a TypeScript entry where the
 * Node line has it. Every mistake found here is one line (ClusterStartError) before anything forks.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtFile } from '../core/built-file.js';
import { ClusterStartError } from '../cluster/cluster-api.js';

export interface AppOptions {
  /** The app's entry file (relative to cwd). */
  entry: string;
  /** Its arguments (what follows `--` on the command line). */
  args?: string[];
  /** The directory it runs in (default: ours). */
  cwd?: string;
}

export interface AppExec {
  exec: string;
  args: string[];
  cwd: string;
  execArgv: string[];
  /** The entry as the user named it, for messages. */
  name: string;
}

const TYPESCRIPT = /\.(ts|mts|cts)$/;

/** Flags a TypeScript entry needs on this Node line, or the one line saying why it cannot run here. */
export function typeScriptFlags(entry: string, features: { typescript?: unknown }, allowed: ReadonlySet<string>, version: string): string[] {
  if (!TYPESCRIPT.test(entry)) return [];
  if (features.typescript) return [];
  if (allowed.has('--experimental-strip-types')) return ['--experimental-strip-types'];
  throw new ClusterStartError(`${entry} is TypeScript, and Node ${version} cannot strip types: run cluster-demo with Node 22.18 or newer (or 22.6+ with the flag, added for you), or build ${path.basename(entry)} to JavaScript and pass that`);
}

export function appExec(app: AppOptions, workerExecArgv: string[]): AppExec {
  const cwd = path.resolve(app.cwd ?? process.cwd());
  if (app.cwd !== undefined && !isDirectory(cwd)) throw new ClusterStartError(`--cwd ${app.cwd}: no such directory`);
  const exec = path.resolve(cwd, app.entry);
  let isFile = false;
  try {
    isFile = statSync(exec).isFile();
  } catch {
    throw new ClusterStartError(`--app ${app.entry}: no such file (looked for ${exec})`);
  }
  if (!isFile) throw new ClusterStartError(`--app ${app.entry}: not a file (${exec}); name the app's entry, e.g. app.js or src/server.ts`);
  const ts = typeScriptFlags(app.entry, process.features as { typescript?: unknown }, process.allowedNodeEnvironmentFlags, process.version);
  const agent = builtFile(import.meta.url, './agent.js', '../../dist/app/agent.js');
  return { exec, args: app.args ?? [], cwd, execArgv: [...workerExecArgv, ...ts, ...preloadFlags(agent, process.features as { require_module?: boolean })], name: app.entry };
}

/**
 * How the agent is preloaded. Where Node can require() an ES module (20.19+, 22.12+: `process.features.require_module`),
 * with --require: a CommonJS entry is then loaded exactly as `node app.js` loads it, by the CommonJS loader (with
 * --import it goes through the ES module loader first; bench row 9 measured the app slightly slower that way,
 * within the noise). Elsewhere with --import, which every line has.
 */
export function preloadFlags(agent: string, features: { require_module?: boolean }): string[] {
  return features.require_module ? ['--require', agent] : ['--import', pathToFileURL(agent).href];
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
