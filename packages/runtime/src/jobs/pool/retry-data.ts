/**
 * What a Retry button carries: the callback data `job:retry:<id>`, written into the keyboard under
 * an interrupted job, read back from a tap. The format is the pool's own; the pool writes it
 * (job-pool.ts), the button's handler reads it (retry-button.ts), neither knows the other.
 */
import type { InlineKeyboardMarkup } from 'node-telegram-bot-api';

const RETRY_PREFIX = 'job:retry:';

export function retryKeyboard(jobId: number): InlineKeyboardMarkup {
  return { inline_keyboard: [[{ text: '🔁 Retry', callback_data: `${RETRY_PREFIX}${jobId}` }]] };
}

/**
 * The job a tap asks to run again: undefined when the callback data is not a Retry button's
 * (someone else's button), NaN when it is one whose id is unreadable.
 */
export function retryTarget(data: string | undefined): number | undefined {
  if (data === undefined || !data.startsWith(RETRY_PREFIX)) return undefined;
  return Number(data.slice(RETRY_PREFIX.length));
}
