/**
 * Nothing is swallowed: an unhandled rejection or an uncaught exception is logged with its stack
 * and the process exits non-zero, so the supervisor restarts it. A bot that carries on after
 * an error it did not handle is a bot in an unknown state — the "silent death" of the seed reports.
 */
import { type Logger, REASON_LINE_PREFIX, redact } from '@botvisor/core';
import { EXIT_FAILURE } from './exit-codes.js';

export function installCrashHandlers(logger: Logger, exit: (code: number) => Promise<never>): void {
  let crashing = false;
  const crash = (what: string) => (err: unknown) => {
    if (crashing) return;
    crashing = true;
    logger.error(`${what}; exiting so the supervisor restarts this bot`, { err });
    process.stderr.write(redact(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`));
    // The stack is for the log; the supervisor shows this one line (the thrown message) as the reason.
    const thrown = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    process.stderr.write(redact(`${REASON_LINE_PREFIX}${what}: ${thrown.split('\n')[0] ?? ''}\n`));
    void exit(EXIT_FAILURE);
  };
  process.on('unhandledRejection', crash('unhandled promise rejection'));
  process.on('uncaughtException', crash('uncaught exception'));
}
