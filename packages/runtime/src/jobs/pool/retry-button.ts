/**
 * Handles taps on the Retry button under an interrupted job. It is registered on the Bot before
 * the bot's handlers, so the button works whatever the bot does with other callback queries; a
 * tap that is not a Retry button's passes on to them.
 *
 * A tap answers the callback (the user's spinner stops), runs the job again as a new one through
 * whatever retries jobs (the pool: only its owner, only once, see JobPool.retry), then takes the
 * button away. The callback data format is in retry-data.ts.
 */
import type { Api, Context } from 'node-telegram-bot-api';
import { jobText } from './job-messages.js';
import { retryTarget } from './retry-data.js';
import type { SubmitResult } from './submit-result.js';

/** What the handler needs of the pool: running a finished job again for a user. */
export interface JobRetrier {
  retry(jobId: number, userId: number): Promise<SubmitResult>;
}

export function retryButtonHandler(pool: JobRetrier, api: Api): (ctx: Context, next: () => Promise<void>) => Promise<void> {
  return async (ctx, next) => {
    const jobId = retryTarget(ctx.callbackQuery?.data);
    if (jobId === undefined) return next();
    const userId = ctx.from?.id;
    const result: SubmitResult =
      Number.isInteger(jobId) && userId !== undefined ? await pool.retry(jobId, userId) : { accepted: false, reason: 'not-found', message: jobText.notFound(jobId) };
    await ctx.answerCallbackQuery({ text: result.accepted ? jobText.retrying(result.job.id) : result.message });
    const message = ctx.callbackQuery?.message;
    if (result.accepted && message !== undefined) {
      // The button has done its job: take it away so nobody taps it again.
      await api.editMessageReplyMarkup({ chat_id: message.chat.id, message_id: message.message_id }).catch(() => undefined);
    }
  };
}
