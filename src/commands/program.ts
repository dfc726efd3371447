/**
 * The whole command line as a commander program: every subcommand with its options and checks. cli.ts runs it;
 * the docs test parses every command line of README.md and docs/ with it (actions replaced, nothing run).
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { makeBrowserCommand } from './browser.js';
import { makeCompareCommand } from './compare.js';
import { makeFleetCommand } from './fleet.js';
import { makeProbeCommand } from './probe.js';
import { makeServeCommand } from './serve.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const SUBCOMMANDS = ['serve', 'probe', 'compare', 'browser', 'fleet'];

export function makeProgram(): Command {
  const program = new Command('cluster-demo')
    .description('See Node.js cluster load balancing: serve a clustered app, probe which workers answer, compare single vs cluster, see what a real browser does.')
    .version(pkg.version)
    .exitOverride()
    .showHelpAfterError('(run "cluster-demo --help" for usage)')
    .addCommand(makeServeCommand())
    .addCommand(makeProbeCommand())
    .addCommand(makeCompareCommand())
    .addCommand(makeBrowserCommand())
    .addCommand(makeFleetCommand())
    .addHelpText(
      'after',
      `
Examples:
  $ npx cluster-demo serve                         # the seed's clustered server, done right
  $ npx cluster-demo probe --concurrency 50        # every worker takes traffic over new connections
  $ npx cluster-demo browser                       # your tabs in a real Chromium: why they show one PID
  $ npx cluster-demo probe --keep-alive --connections 1   # one connection for everything: one PID
  $ npx cluster-demo compare --single-vs-cluster   # when does the cluster pay off?
  $ npx cluster-demo fleet                         # 3 cluster hosts behind a real nginx: host → worker`,
    );
  return program;
}
