/**
 * The outbox's duplicate-send policy: after a failed call, may the same call be sent again?
 *
 *  - Telegram answered 429: nothing was delivered. Wait `retry_after` (the scope it concerns is
 *    paused, see scope-pauses.ts) and send again, in the same place in the chat's order.
 *  - The request provably never reached Telegram (connection refused, DNS failure, no route,
 *    connect timeout): send again after a short backoff, whatever the method.
 *  - Anything else without an answer (timeout or reset after the request went out, a 5xx from a
 *    proxy): it may have been processed. Only idempotent methods (edits, deletes, chat actions,
 *    callback answers) are sent again, and "not modified"/"not found"/"too old" on that repeat
 *    counts as success. A send (sendMessage, sendDocument, …) is NOT repeated: the caller gets an
 *    `UncertainDeliveryError`. A lost message is better than a duplicate a user may act on twice.
 *  - Telegram answered with another error (400, 403…): final, the caller gets it.
 */
import { NetworkError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api';
import { isIdempotent } from './method-kinds.js';

export type FailureClass =
  | { kind: 'rate-limited'; retryAfterMs: number }
  | { kind: 'not-sent' }
  | { kind: 'ambiguous' }
  | { kind: 'refused'; errorCode: number; description: string };

/** Error codes that mean the connection was never made, so the request was never sent. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Attempts for a call that failed without an answer (429s do not count). */
export const MAX_ATTEMPTS = 3;

export class UncertainDeliveryError extends Error {
  override readonly name = 'UncertainDeliveryError';
  constructor(
    readonly method: string,
    cause: unknown,
  ) {
    super(`${method}: no answer from Telegram, and it may have been delivered; not sent again so that it is never duplicated`, { cause });
  }
}

function causeCodes(err: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 6 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

export function classifyFailure(err: unknown): FailureClass {
  if (err instanceof TelegramApiError) {
    if (err.errorCode === 429) return { kind: 'rate-limited', retryAfterMs: Math.max(1, err.retryAfter ?? 1) * 1000 };
    if (err.errorCode >= 500) return { kind: 'ambiguous' };
    return { kind: 'refused', errorCode: err.errorCode, description: err.description };
  }
  if (err instanceof NetworkError || err instanceof TimeoutError) {
    return causeCodes(err).some((c) => NEVER_SENT.has(c)) ? { kind: 'not-sent' } : { kind: 'ambiguous' };
  }
  return { kind: 'ambiguous' };
}

/** Whether to send again after `attempt` failed attempts without an answer. */
export function maySendAgain(method: string, failure: FailureClass, attempt: number): boolean {
  if (failure.kind === 'rate-limited') return true;
  if (attempt >= MAX_ATTEMPTS) return false;
  if (failure.kind === 'not-sent') return true;
  if (failure.kind === 'ambiguous') return isIdempotent(method);
  return false;
}

/** Backoff between attempts after a network failure: 0.5 s, 1 s, 2 s. */
export function backoffMs(attempt: number): number {
  return 500 * 2 ** Math.max(0, attempt - 1);
}
