/**
 * Handles taps on the Stop button of a job's card. Registered on the Bot before the bot's
 * handlers, like the Retry button's (retry-button.ts): a tap that is not a Stop button's passes
 * on. Only the job's owner or an admin may stop it (see JobPool.stopJob); the tap is answered
 * with what happened, and the card itself says how the job ended once it has.
 */
import type { Context } from 'node-telegram-bot-api';
import { jobText } from './job-messages.js';
import { stopTarget } from './stop-data.js';

/** What the handler needs of the pool: stopping one job on a user's behalf. */
export interface JobStopper {
  stopJob(jobId: number, userId: number): { ok: boolean; message: string };
}

export function stopButtonHandler(pool: JobStopper): (ctx: Context, next: () => Promise<void>) => Promise<void> {
  return async (ctx, next) => {
    const jobId = stopTarget(ctx.callbackQuery?.data);
    if (jobId === undefined) return next();
    const userId = ctx.from?.id;
    const answer = Number.isInteger(jobId) && userId !== undefined ? pool.stopJob(jobId, userId).message : jobText.notFound(jobId);
    await ctx.answerCallbackQuery({ text: answer });
  };
}
