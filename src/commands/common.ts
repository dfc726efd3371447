import { Command } from 'commander';

/** Every command reports usage errors the same way: commander throws, cli.ts prints one line and exits 2. */
export function newCommand(name: string): Command {
  return new Command(name).exitOverride().showHelpAfterError(`(run "cluster-demo ${name} --help" for usage)`);
}
