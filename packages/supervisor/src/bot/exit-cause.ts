/**
 * What a bot's exit means. Exit codes are the runtime's (see @botvisor/runtime exit-codes): 0 stop,
 * 42 restart me, 78 bad token or config; `hung` and `start-timeout` are causes the supervisor
 * itself assigns when it had to kill the bot.
 */

import { EXIT_CONFIG, EXIT_OK, EXIT_RESTART } from '@botvisor/core';

export type ExitCause = 'exit' | 'signal' | 'hung' | 'start-timeout';

export interface ExitRecord {
  code: number | null;
  signal: string | null;
  cause: ExitCause;
  at: string;
}


export type ExitMeaning = 'stopped' | 'restart-now' | 'config-error' | 'crash';

export function meaningOf(exit: ExitRecord, stopRequested: boolean): ExitMeaning {
  if (stopRequested) return 'stopped';
  if (exit.cause === 'hung' || exit.cause === 'start-timeout') return 'crash';
  if (exit.code === EXIT_OK) return 'stopped';
  if (exit.code === EXIT_RESTART) return 'restart-now';
  if (exit.code === EXIT_CONFIG) return 'config-error';
  return 'crash';
}

export function describeExit(exit: ExitRecord): string {
  if (exit.cause === 'hung') return 'hung (no pong)';
  if (exit.cause === 'start-timeout') return 'not ready in time';
  if (exit.signal !== null) return `killed by ${exit.signal}`;
  return `exit code ${exit.code}`;
}
