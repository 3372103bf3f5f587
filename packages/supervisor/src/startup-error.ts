/**
 * The error a supervisor start-up throws for a reason a person can fix (another process polls a
 * token), as opposed to a bug: the CLI prints its message without a stack.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}
