/** Exit codes scripts can branch on (also listed in `knot --help`). */
export const EXIT = {
  ok: 0,
  /** The server refused, or the space ended FAILED. */
  failed: 1,
  /** Wrong arguments. */
  usage: 2,
  /** Not logged in, or the stored token no longer works. */
  auth: 3,
  /** The server could not be reached. */
  unreachable: 4,
} as const;

/** A failure to report in one line, without a stack trace, and the exit code that goes with it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    /** The server's `extensions.code`, when the server refused. */
    readonly code?: string,
  ) {
    super(message);
  }
}
