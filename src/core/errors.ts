/**
 * The errors the tool expects, as types. Library code names a run's options by their keys, in braces
 * (`{chaosMs} needs the in-process cluster`); the command layer turns each key into its flag (`--chaos`) when it
 * prints the one line. Anything else that is thrown is a bug, shown with its stack.
 */

const KEY = /\{(\w+)\}/g;

abstract class OptionAwareError extends Error {
  constructor(
    /** The message, with option keys in braces. */
    readonly template: string,
    options?: ErrorOptions,
  ) {
    super(template.replace(KEY, '$1'), options);
  }

  /** The message with each option key written as `flagOf` names it (the CLI: its flag). */
  describe(flagOf: (key: string) => string): string {
    return this.template.replace(KEY, (_, key: string) => flagOf(key));
  }
}

/** Options that do not go together, or a value a run cannot use: the caller's mistake (the CLI: exit code 2). */
export class OptionsError extends OptionAwareError {
  override name = 'OptionsError';
}

/** A failure the user can act on (nothing listening, port in use, no browser): one line, exit code 1, no stack. */
export class ExpectedError extends OptionAwareError {
  override name = 'ExpectedError';
}

/** dist/ lacks a module the run needs: a clone that was not built (npm install --ignore-scripts), or a broken install. */
export class MissingBuildError extends ExpectedError {
  override name = 'MissingBuildError';
  constructor(readonly file: string) {
    super(`${file} is missing: run \`npm run build\` in a clone, or reinstall the package`);
  }
}

/** A mistake in how the command line was written (the command layer's own checks): one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The subcommand whose --help the hint points to. */
    readonly command?: string,
  ) {
    super(message);
  }
}
