/** A mistake in how the tool was called: printed as one line with a usage hint, exit code 2. */
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

/** A failure the user can act on (nothing listening, port in use): one line, exit code 1, no stack. */
export class ExpectedError extends Error {
  override name = 'ExpectedError';
}
