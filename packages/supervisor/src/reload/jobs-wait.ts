/**
 * The reload's rule for a bot's running CLI jobs: they are not killed by a reload unless the
 * command changed. A bot with running jobs keeps its old process — polling and answering as
 * before — until its jobs end; only then is it handed over. (Adopting the jobs into the new
 * process is not done: their pipes, timers and records live in the old one.) When the bot's
 * `commands` changed, its jobs run a command that no longer exists as configured, so the hand-over
 * does not wait and they end as `interrupted`, as at any stop.
 */
import type { ResolvedBot } from '@botvisor/core';
import type { ManagedBot } from '../bot/managed-bot.js';

/** Whether the hand-over of `bot` to `next` waits for the jobs of its old process. */
export function waitsForJobs(bot: ManagedBot, next: ResolvedBot): boolean {
  return runningJobs(bot) > 0 && JSON.stringify(bot.definition.bot.commands) === JSON.stringify(next.commands);
}

export function runningJobs(bot: ManagedBot): number {
  return bot.state === 'ready' ? (bot.status().runningJobs ?? 0) : 0;
}

/**
 * Resolves once `bot` has no running job (or is no longer ready). The count comes with each pong,
 * so it is looked at on the pong's pace (`everyMs`, the ping interval).
 */
export function untilJobsEnd(bot: ManagedBot, everyMs: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (runningJobs(bot) === 0) resolve();
      else setTimeout(check, everyMs).unref();
    };
    check();
  });
}
