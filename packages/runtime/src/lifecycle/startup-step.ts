/**
 * Start-up steps with names: a failed step names itself in the log and in the exit message
 * ("start-up failed at getMe: …"), so a person knows where to look; the cause is worded by
 * describe-api-error.ts, so a Bot API answer that is not Telegram's reads as what it was.
 */
import { describeApiError } from '../telegram/describe-api-error.js';

export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    readonly step: string,
    readonly exitCode: number,
    cause: unknown,
  ) {
    super(`start-up failed at ${step}: ${describeApiError(cause)}`, { cause });
  }
}

/** Runs `fn` as the named step; a failure becomes a StartupError with the exit code `exitCodeFor` picks. */
export async function step<T>(name: string, fn: () => Promise<T> | T, exitCodeFor: (err: unknown) => number): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StartupError) throw err;
    throw new StartupError(name, exitCodeFor(err), err);
  }
}
