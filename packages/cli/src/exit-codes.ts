/**
 * The `botvisor` command's exit codes, documented in the README; scripts and units rely on them.
 */
export const EXIT = {
  ok: 0,
  /** The operation failed (a bot errored on start, stop timed out, doctor found a problem). */
  failed: 1,
  /** Bad usage: an unknown command or option, a missing argument. */
  usage: 2,
  /** No supervisor is running for this config's data dir. */
  notRunning: 3,
  /** The config is invalid or missing. */
  config: 78,
} as const;

/** An error that ends the command with one clear sentence and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}
