/**
 * What a failed getUpdates means and what to do about it — the seed reports' lesson that an
 * expected condition must never be logged as CRITICAL:
 *
 *   409 Conflict            WARNING, back off 1 s → 10 s, tell the supervisor      (another poller)
 *   429 Too Many Requests   WARNING, wait exactly retry_after
 *   network, timeout, 5xx   WARNING, capped backoff
 *   401 / 404               fatal: the token is wrong; exit 78 so nobody restart-loops
 *   anything else           ERROR, capped backoff
 *
 * An answer that is not Telegram's envelope (a proxy's HTML, another program's JSON, an empty
 * body) is judged by its HTTP status alone: 429 and 5xx are transient, anything else unexpected —
 * never bad-token, since a 404 page from a wrong apiRoot says nothing about the token. Every
 * description comes from describe-api-error.ts, so none reads "undefined".
 */
import { NetworkError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api';
import { describeApiError } from '../telegram/describe-api-error.js';
import { findForeignResponse } from '../telegram/foreign-response-error.js';

export type PollFailure =
  | { kind: 'conflict'; description: string }
  | { kind: 'rate-limited'; retryAfterMs: number }
  | { kind: 'transient'; description: string }
  | { kind: 'bad-token'; description: string }
  | { kind: 'unexpected'; description: string };

export function classifyPollError(err: unknown): PollFailure {
  const description = describeApiError(err);
  const foreign = findForeignResponse(err);
  if (foreign !== undefined) return foreign.status === 429 || foreign.status >= 500 ? { kind: 'transient', description } : { kind: 'unexpected', description };
  if (err instanceof TelegramApiError && typeof err.errorCode === 'number') {
    if (err.errorCode === 409) return { kind: 'conflict', description: err.description ?? description };
    if (err.errorCode === 429) return { kind: 'rate-limited', retryAfterMs: Math.max(1, err.retryAfter ?? 1) * 1000 };
    if (err.errorCode === 401 || err.errorCode === 404) return { kind: 'bad-token', description };
    if (err.errorCode >= 500) return { kind: 'transient', description };
    return { kind: 'unexpected', description };
  }
  if (err instanceof NetworkError || err instanceof TimeoutError) return { kind: 'transient', description };
  return { kind: 'unexpected', description };
}

/** Whether an error from any API call means the token itself is bad (exit 78 rather than retry). */
export function isBadTokenError(err: unknown): boolean {
  return err instanceof TelegramApiError && (err.errorCode === 401 || err.errorCode === 404);
}
