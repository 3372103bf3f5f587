/**
 * The Retry button under an interrupted job: its keyboard, and the handler for its taps. The
 * callback data `job:retry:<id>` is the pool's own; the handler is registered on the Bot before
 * the bot's handlers, so the button works whatever the bot does with other callback queries.
 * A tap answers the callback (the user's spinner stops), runs the job again as a new one (see
 * JobPool.retry: only its owner, only once), and takes the button away.
 */
import type { Api, Context, InlineKeyboardMarkup } from 'node-telegram-bot-api';
import { jobText } from './job-messages.js';
import type { SubmitResult } from './job-pool.js';

export const RETRY_PREFIX = 'job:retry:';

export function retryKeyboard(jobId: number): InlineKeyboardMarkup {
  return { inline_keyboard: [[{ text: '🔁 Retry', callback_data: `${RETRY_PREFIX}${jobId}` }]] };
}

export function retryButtonHandler(pool: { retry(jobId: number, userId: number): Promise<SubmitResult> }, api: Api): (ctx: Context, next: () => Promise<void>) => Promise<void> {
  return async (ctx, next) => {
    const data = ctx.callbackQuery?.data;
    if (data === undefined || !data.startsWith(RETRY_PREFIX)) return next();
    const jobId = Number(data.slice(RETRY_PREFIX.length));
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
