/**
 * A `fetch` for node-telegram-bot-api's transport that lets through only Telegram's envelope.
 *
 * The client reads any JSON without `ok: true` as `{ ok: false }` and builds a `TelegramApiError`
 * from its missing fields ("undefined: undefined"), and drops the body of a 5xx it cannot parse.
 * This guard reads the body first: a Telegram envelope goes on to the client untouched; anything
 * else becomes a `ForeignResponseError` (status, method, the start of the body). The client wraps
 * what its fetch throws in a `NetworkError` whose `cause` is that error; describe-api-error.ts
 * and the error policies look for it there.
 */

import { urlOf } from './fetch-input.js';
import { ForeignResponseError } from './foreign-response-error.js';
import { keepAliveFetch, type TextFetch, textResponse } from './keep-alive-fetch.js';

/** Telegram's `{ ok: true, result }` or `{ ok: false, error_code, … }`, nothing else. */
export function isTelegramEnvelope(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as { ok?: unknown; result?: unknown; error_code?: unknown };
  if (v.ok === true) return 'result' in v;
  return v.ok === false && typeof v.error_code === 'number';
}

/** How a success answer of Telegram (and of the simulator) begins. */
const SUCCESS_PREFIX = '{"ok":true,"result":';

/**
 * A success envelope by its shape, without a parse: the client parses every answer anyway, and
 * parsing each one twice was ~15% of the guard's path in a throughput profile (BENCHMARKS.md,
 * "Issue 18, CPU pass"). A proxy's page does not begin like this; a body that does and then is not
 * JSON still fails, as the client's own `ParseError`.
 */
function looksLikeSuccess(text: string): boolean {
  return text.startsWith(SUCCESS_PREFIX) && text.endsWith('}');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The Bot API method a request URL names (`…/bot<token>/<method>`): its last path segment, never the token. */
export function methodOf(input: string | URL | Request): string {
  try {
    return new URL(urlOf(input)).pathname.split('/').pop() || '(no method)';
  } catch {
    return '(no method)';
  }
}

/**
 * `fetchImpl` defaults to a keep-alive `node:http` transport (keep-alive-fetch.ts). The answer is a
 * `TextResponse` over the text already read, typed as the `Response` the client's option asks for:
 * node-telegram-bot-api v2's transport reads only its `status` and `text()`.
 */
export function guardEnvelope(fetchImpl: typeof fetch | TextFetch = keepAliveFetch()): typeof fetch {
  const guarded: TextFetch = async (input, init) => {
    const response = await fetchImpl(input, init);
    const text = await response.text(); // a failed read propagates as it is: the client classifies it
    if (!looksLikeSuccess(text) && !isTelegramEnvelope(parseJson(text))) throw new ForeignResponseError(response.status, methodOf(input), text);
    const type = response.headers.get('content-type') ?? 'application/json';
    return textResponse(response.status, response.statusText, { get: (name) => (name.toLowerCase() === 'content-type' ? type : null) }, text);
  };
  return guarded as unknown as typeof fetch;
}
