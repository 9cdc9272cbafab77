/** A failure the CLI reports in its own words (no stack, no "isthmus:" prefix), with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
