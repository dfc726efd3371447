/**
 * Failure paths of the commands, forced from outside (test/fixtures/fail-start.mjs, loaded with NODE_OPTIONS, makes
 * chosen processes fail as they start): each ends in its one line, its exit code, and nothing it started is left.
 * "Nothing left" is checked by a mark in the environment every process of the run inherits (workers, contenders),
 * looked for in /proc once the command has exited: a process that outlived it is found even after it was
 * re-parented away from the command.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { binPath, runCli, type CliResult } from './helpers.js';

const failStart = fileURLToPath(new URL('./fixtures/fail-start.mjs', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The processes whose environment carries `mark` (ours only: /proc/<pid>/environ of other users is unreadable). */
function processesMarked(mark: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`CLUSTER_DEMO_TEST_MARK=${mark}`)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return found;
}

/** Runs the CLI with the failure asked for and a fresh mark; returns its result once it has exited. */
async function runFailing(args: string[], fail: string, script = binPath): Promise<CliResult & { mark: string }> {
  const mark = randomUUID();
  const counter = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-fail-'));
  dirs.push(counter);
  const env = { NODE_OPTIONS: `--import ${failStart}`, CLUSTER_DEMO_FAIL: fail, CLUSTER_DEMO_FAIL_DIR: counter, CLUSTER_DEMO_TEST_MARK: mark };
  return { ...(await runCli(args, { script, env, timeoutMs: 30_000 })), mark };
}

/** The tool's own stderr lines (the fixture's "fail-start:" lines are the injected failure saying it happened). */
const ownLines = (stderr: string) => stderr.split('\n').filter((line) => line.trim() && !line.startsWith('fail-start:'));

describe('a command that fails stops everything it started, and says why in one line', () => {
  it('probe --reload whose replacement exits before listening: one line, exit 1, no worker left', async () => {
    // Workers 1 and 2 start; the first replacement (worker 3) exits at start-up.
    const result = await runFailing(['probe', '--reload', '--duration', '2s', '--route', 'pid'], 'workers-after:2');
    expect(result.stderr).toContain('fail-start: worker 3 was told to fail');
    expect(ownLines(result.stderr)).toEqual([expect.stringMatching(/^error: reload stopped: the replacement for worker (\d+) \(new pid \d+\) exited before listening; \1 keeps serving$/)]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(1);
    expect(processesMarked(result.mark)).toEqual([]);
  });

  it('compare whose cluster contender does not start: the contender named in one line, exit 1, the single process stopped', async () => {
    const result = await runFailing(['compare', '--requests', '100'], 'serve');
    expect(ownLines(result.stderr)).toEqual(['error: cluster ×2 did not start: the server exited (code 3) before it was ready: fail-start: this serve was told to fail']);
    expect(result.code).toBe(1);
    expect(processesMarked(result.mark)).toEqual([]);
  });

  it('a clone that was not built (no dist/): one line naming the fix, exit 1', async () => {
    const clone = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-unbuilt-'));
    dirs.push(clone);
    mkdirSync(path.join(clone, 'bin'));
    cpSync(binPath, path.join(clone, 'bin', 'cluster-demo.js'));
    cpSync(fileURLToPath(new URL('../package.json', import.meta.url)), path.join(clone, 'package.json'));
    const result = await runFailing(['probe'], 'none', path.join(clone, 'bin', 'cluster-demo.js'));
    expect(ownLines(result.stderr)).toEqual([`error: ${path.join(clone, 'dist', 'cli.js')} is missing: run \`npm run build\` in a clone, or reinstall the package`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
  });
});
