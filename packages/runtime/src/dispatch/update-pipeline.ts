/**
 * What happens to one update, in order: shape check (malformed → WARNING, skipped), allow list,
 * per-user rate limit, then the bot's middleware chain inside an error boundary. A handler that
 * throws is logged at ERROR with the update id — never the message text — and the user gets a
 * short apology; the bot goes on. This never rejects.
 */
import type { Logger } from '@botvisor/core';
import type { Update } from 'node-telegram-bot-api';
import type { Authorizer } from './authorize.js';
import type { DispatchItem } from './dispatcher.js';
import type { IncomingRateLimit } from './incoming-rate-limit.js';
import { chatIdOf, malformedReason, senderIdOf, updateKind } from './update-shape.js';

export const NOT_AUTHORIZED_TEXT = 'Sorry, you are not authorized to use this bot.';
export const HANDLER_ERROR_TEXT = 'Sorry, something went wrong while handling that. The error has been logged.';
export const POISON_UPDATE_TEXT = 'Sorry, one of your messages made the bot fail every time it was handled, so it has been skipped. The error has been logged.';

export function rateLimitedText(retryInMs: number): string {
  return `You are sending too many messages. Please wait about ${Math.max(1, Math.ceil(retryInMs / 60_000))} minute(s); messages sent until then are ignored.`;
}

export interface UpdatePipelineOptions {
  logger: Logger;
  authorizer: Authorizer;
  rateLimit: IncomingRateLimit;
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
    const reason = malformedReason(update);
    if (reason !== undefined) {
      const id = (update as { update_id?: unknown } | null)?.update_id;
      logger.warning('skipped a malformed update', { updateId: typeof id === 'number' ? id : undefined, reason });
      options.onHandled?.('skipped', update, 0);
      return;
    }
    const sender = senderIdOf(update);
    const chat = chatIdOf(update);
    const auth = options.authorizer.check(sender);
    if (!auth.allowed) {
      logger.info('refused an update from a user not on the allow list', { updateId: update.update_id, userId: sender });
      if (auth.notify) tell(chat, NOT_AUTHORIZED_TEXT);
      options.onHandled?.('skipped', update, 0);
      return;
    }
    if (sender !== undefined) {
      const rate = options.rateLimit.check(sender);
      if (!rate.allowed) {
        if (rate.notify) {
          logger.warning('user over the incoming rate limit; ignoring their updates for a while', { userId: sender, retryInMs: rate.retryInMs });
          tell(chat, rateLimitedText(rate.retryInMs));
        }
        options.onHandled?.('skipped', update, 0);
        return;
      }
    }
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
