/**
 * The gate an update passes as it arrives, before it waits in its chat's queue: shape check
 * (malformed → WARNING, skipped), allow list, per-user rate limit. Deciding at arrival is what
 * makes the rate limit a rate limit: counted when handlers finish, a slow handler would let a
 * flood of queued messages through one at a time and the user would never hear about it.
 *
 * Refusals are told to the person, never to a group: a callback query is always answered (the
 * client's spinner stops), other updates get their notice in the sender's private chat.
 */
import type { Logger } from '@botvisor/core';
import type { Update } from 'node-telegram-bot-api';
import type { Authorizer } from './authorize.js';
import type { DispatchItem } from './dispatcher.js';
import type { IncomingRateLimit } from './incoming-rate-limit.js';
import { malformedReason, senderIdOf } from './update-shape.js';

export const NOT_AUTHORIZED_TEXT = 'Sorry, you are not authorized to use this bot.';

export function rateLimitedText(retryInMs: number): string {
  return `You are sending too many messages. Please wait about ${Math.max(1, Math.ceil(retryInMs / 60_000))} minute(s); messages sent until then are ignored.`;
}

export interface AdmissionOptions {
  logger: Logger;
  authorizer: Authorizer;
  rateLimit: IncomingRateLimit;
  /** Sends a short notice to a chat; failures are logged here. */
  notify: (chatId: number, text: string) => Promise<void>;
  /** Answers a callback query with a short text (a toast in the user's client). */
  answerCallback: (callbackQueryId: string, text: string) => Promise<void>;
  /** An update refused at the gate (for metrics). */
  onRefused?: (update: Update) => void;
}

/** Returns the gate: true lets the item on to its chat's queue, false drops it (already told and logged). */
export function createAdmission(options: AdmissionOptions): (item: DispatchItem) => boolean {
  const { logger } = options;
  const tell = (update: Update, text: string, notify: boolean): void => {
    const callback = (update as { callback_query?: { id: string } }).callback_query;
    if (callback !== undefined) {
      // Always: an unanswered callback query leaves the button spinning for its user.
      void options.answerCallback(callback.id, text).catch((err: unknown) => logger.warning('could not answer a callback query', { updateId: update.update_id, err }));
      return;
    }
    const sender = senderIdOf(update);
    if (!notify || sender === undefined) return;
    // A user's private chat has the user's id: the notice reaches them and nobody else in a group.
    void options.notify(sender, text).catch((err: unknown) => logger.warning('could not send a notice', { userId: sender, err }));
  };

  return ({ update }) => {
    const reason = malformedReason(update);
    if (reason !== undefined) {
      const id = (update as { update_id?: unknown } | null)?.update_id;
      logger.warning('skipped a malformed update', { updateId: typeof id === 'number' ? id : undefined, reason });
      options.onRefused?.(update);
      return false;
    }
    const sender = senderIdOf(update);
    const auth = options.authorizer.check(sender);
    if (!auth.allowed) {
      logger.info('refused an update from a user not on the allow list', { updateId: update.update_id, userId: sender });
      tell(update, NOT_AUTHORIZED_TEXT, auth.notify);
      options.onRefused?.(update);
      return false;
    }
    if (sender !== undefined) {
      const rate = options.rateLimit.check(sender);
      if (!rate.allowed) {
        if (rate.notify) logger.warning('user over the incoming rate limit; ignoring their updates for a while', { userId: sender, retryInMs: rate.retryInMs });
        tell(update, rateLimitedText(rate.retryInMs), rate.notify);
        options.onRefused?.(update);
        return false;
      }
    }
    return true;
  };
}
