/**
 * What happens to one admitted update (admission.ts has already checked its shape, the allow list
 * and the rate limit, at arrival): the bot's middleware chain inside an error boundary. A handler
 * that throws is logged at ERROR with the update id — never the message text — and the user gets
 * a short apology; the bot goes on. This never rejects.
 */
import type { Logger } from '@botvisor/core';
import type { Update } from 'node-telegram-bot-api';
import type { DispatchItem } from './dispatcher.js';
import { chatIdOf, updateKind } from './update-shape.js';

export { NOT_AUTHORIZED_TEXT, rateLimitedText } from './admission.js';
export const HANDLER_ERROR_TEXT = 'Sorry, something went wrong while handling that. The error has been logged.';
export const POISON_UPDATE_TEXT = 'Sorry, one of your messages made the bot fail every time it was handled, so it has been skipped. The error has been logged.';

export interface UpdatePipelineOptions {
  logger: Logger;
  /** Runs the bot's middleware chain; rejects when a handler throws. */
  runHandlers: (item: DispatchItem) => Promise<void>;
  /** Sends a short notice to a chat; failures are the sender's to log. */
  notify: (chatId: number, text: string) => Promise<void>;
  /** Counts for metrics and pong. */
  onHandled?: (outcome: 'ok' | 'error' | 'skipped', update: Update, durationMs: number) => void;
}

export function createUpdatePipeline(options: UpdatePipelineOptions): (item: DispatchItem) => Promise<void> {
  const { logger } = options;
  const tell = (chatId: number | undefined, text: string): void => {
    if (chatId === undefined) return;
    void options.notify(chatId, text).catch((err: unknown) => logger.warning('could not send a notice', { chatId, err }));
  };

  return async (item) => {
    const { update } = item;
    const started = performance.now();
    const chat = chatIdOf(update);
    try {
      await options.runHandlers(item);
      options.onHandled?.('ok', update, performance.now() - started);
    } catch (err) {
      logger.error('a handler failed', { updateId: update.update_id, kind: updateKind(update), redelivered: item.redelivered, err });
      tell(chat, HANDLER_ERROR_TEXT);
      options.onHandled?.('error', update, performance.now() - started);
    }
  };
}
