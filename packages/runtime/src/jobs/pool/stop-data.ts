/**
 * What a job's Stop button carries: the callback data `job:stop:<id>`, written into the keyboard
 * of a queued or running job's card, read back from a tap. The pool writes it (job-pool.ts), the
 * button's handler reads it (stop-button.ts).
 */
import type { InlineKeyboardMarkup } from 'node-telegram-bot-api';
import { jobText } from './job-messages.js';

const STOP_PREFIX = 'job:stop:';

export function stopKeyboard(jobId: number): InlineKeyboardMarkup {
  return { inline_keyboard: [[{ text: jobText.stopButton(jobId), callback_data: `${STOP_PREFIX}${jobId}` }]] };
}

/** The job a tap asks to stop: undefined when the data is not a Stop button's, NaN when its id is unreadable. */
export function stopTarget(data: string | undefined): number | undefined {
  if (data === undefined || !data.startsWith(STOP_PREFIX)) return undefined;
  return Number(data.slice(STOP_PREFIX.length));
}
