/**
 * One sentence for a person about any failed Bot API call, whatever the client made of the answer:
 *
 *   Telegram's error envelope   "400 Bad Request: chat not found"
 *   a foreign body              "HTTP 500 from setMyCommands: {"message":"API method …"}"
 *   a body that is not JSON     "Invalid JSON in response to getMe: <html>…"
 *   no answer                   "Network request failed: getMe (connect ECONNREFUSED 127.0.0.1:9)"
 *
 * It never prints "undefined": node-telegram-bot-api builds a `TelegramApiError` with undefined
 * `errorCode`/`description` from JSON that is not an envelope, and that case is named instead.
 */
import { NetworkError, ParseError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api';
import { findForeignResponse, quoteBody } from './foreign-response-error.js';

/** The innermost cause's message or code: the "ECONNREFUSED" under "fetch failed". */
function rootCause(err: Error): string | undefined {
  let e: unknown = err.cause;
  let found: string | undefined;
  for (let depth = 0; depth < 6 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    found = e.message !== '' ? e.message : typeof code === 'string' ? code : found;
    e = e.cause;
  }
  return found;
}

export function describeApiError(err: unknown): string {
  const foreign = findForeignResponse(err);
  if (foreign !== undefined) return foreign.message;
  if (err instanceof TelegramApiError) {
    const code: unknown = err.errorCode;
    const description: unknown = err.description;
    if (typeof code !== 'number') return "the Bot API answered without Telegram's error fields (no error_code, no description)";
    return typeof description === 'string' && description !== '' ? `${code} ${description}` : `${code} (no description)`;
  }
  if (err instanceof ParseError) return `${err.message}: ${quoteBody(err.responseText ?? '')}`;
  if (err instanceof NetworkError || err instanceof TimeoutError) {
    const cause = rootCause(err);
    return cause === undefined ? err.message : `${err.message} (${cause})`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
