/**
 * Handles taps on the Retry button under an interrupted job. It is registered on the Bot before
 * the bot's handlers, so the button works whatever the bot does with other callback queries; a
 * tap that is not a Retry button's passes on to them.
 *
 * A tap answers the callback (the user's spinner stops), runs the job again as a new one through
 * whatever retries jobs (the pool: only an interrupted job, only its owner, only once, checked
 * against the current config; see JobPool.retry), then takes the
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
    const text = result.accepted ? jobText.retrying(result.job.id) : result.message;
    // A callback answer holds at most 200 characters (a refusal may quote an argument's pattern).
    await ctx.answerCallbackQuery({ text: text.length > 200 ? `${text.slice(0, 199)}…` : text });
    const message = ctx.callbackQuery?.message;
    if (result.accepted && message !== undefined) {
      // The button has done its job: take it away so nobody taps it again.
      await api.editMessageReplyMarkup({ chat_id: message.chat.id, message_id: message.message_id }).catch(() => undefined);
    }
  };
}
