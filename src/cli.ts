/**
 * The command line: parses, validates and dispatches. No server or measurement logic lives here; the
 * commands lazy-import their implementation. Exit codes: 0 success, 1 a failed check or run, 2 a usage error.
 */
import { CommanderError } from 'commander';
import { flagOf } from './commands/flags.js';
import { makeProgram, SUBCOMMANDS } from './commands/program.js';
import { ExpectedError, OptionsError, UsageError } from './core/errors.js';
import { keepGeneratorHeapSmall } from './load/heap.js';

export async function main(argv: string[]): Promise<number> {
  // probe and compare run the load engine in this process: keep its memory flat over long runs (heap.ts).
  if (argv[2] === 'probe' || argv[2] === 'compare' || argv[2] === 'fleet') keepGeneratorHeapSmall();
  try {
    await makeProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end through here too, with exit code 0; commander already printed its line.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError || err instanceof OptionsError) {
      console.error(`error: ${err instanceof OptionsError ? err.describe(flagOf) : err.message}`);
      const command = err instanceof UsageError ? err.command : SUBCOMMANDS.find((name) => name === argv[2]);
      console.error(`(run "cluster-demo${command ? ` ${command}` : ''} --help" for usage)`);
      return 2;
    }
    if (err instanceof ExpectedError) {
      console.error(`error: ${err.describe(flagOf)}`);
      return 1;
    }
    // A bug, not a user's mistake: show the stack.
    console.error(err);
    return 1;
  }
}

// `cluster-demo … | head`: a reader that goes away is not an error of ours; stop quietly, as Unix tools do. A
// server is the exception: its log lost its reader, its clients did not (`serve | head` keeps serving, silently).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  if (process.argv[2] !== 'serve') process.exit(0);
});

const code = await main(process.argv);
process.exitCode = code;
