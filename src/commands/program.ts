/**
 * The whole command line as a commander program: every subcommand with its options and checks. cli.ts runs it;
 * the docs test parses every command line of README.md and docs/ with it (actions replaced, nothing run).
 */
import { Command, Help, type Option } from 'commander';
import { readFileSync } from 'node:fs';
import { makeBrowserCommand } from './browser.js';
import { makeCompareCommand } from './compare.js';
import { makeFleetCommand } from './fleet.js';
import { makeProbeCommand } from './probe.js';
import { makeServeCommand } from './serve.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const SUBCOMMANDS = ['serve', 'probe', 'compare', 'browser', 'fleet'];

/**
 * Each default shown once: commander appends "(default: …)" to every option with a default value, after any the
 * description already names in words ("(default: 12000000)" after "about 10 ms of CPU work"), and "(default:
 * false)" after every switch. A switch's default is that it is off; a default written in words is the one shown.
 */
const plainHelp = new Help();
export function optionDescription(option: Option): string {
  const namedInWords = /\(default[: ]/.test(option.description) || /, default /.test(option.description);
  if (option.defaultValue !== false && !namedInWords) return plainHelp.optionDescription(option);
  return plainHelp.optionDescription(Object.assign(Object.create(option) as Option, { defaultValue: undefined }));
}

function showDefaultsOnce(command: Command): void {
  command.configureHelp({ optionDescription });
  for (const sub of command.commands) showDefaultsOnce(sub);
}

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
  showDefaultsOnce(program);
  return program;
}
