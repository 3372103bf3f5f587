/**
 * An answer to a Bot API call that is not Telegram's `{ ok, … }` envelope: an HTML error page from
 * a proxy, another program's JSON, an empty body. It carries what a person needs to find the
 * culprit — the HTTP status, the method and the start of the body — and nothing Telegram-shaped,
 * so nobody reads `error_code` off a body that never had one.
 */

/** How much of a foreign body an error message quotes. */
export const QUOTED_BODY_CHARS = 200;

/** The first `QUOTED_BODY_CHARS` characters of `body`, whitespace runs folded so HTML fits on one log line. */
export function quoteBody(body: string): string {
  const folded = body.replace(/\s+/g, ' ').trim();
  if (folded === '') return '(empty body)';
  return folded.length > QUOTED_BODY_CHARS ? `${folded.slice(0, QUOTED_BODY_CHARS)}…` : folded;
}

export class ForeignResponseError extends Error {
  override readonly name = 'ForeignResponseError';
  /** Stable code, next to node-telegram-bot-api's own (`EFETCH`, `EPARSE`, …). */
  readonly code = 'EFOREIGN';

  constructor(
    readonly status: number,
    readonly method: string,
    readonly body: string,
  ) {
    super(`HTTP ${status} from ${method}: ${quoteBody(body)}`);
  }
}

/** The `ForeignResponseError` in `err` or its causes (the client wraps what its fetch throws). */
export function findForeignResponse(err: unknown): ForeignResponseError | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 6 && typeof e === 'object' && e !== null; depth++) {
    if (e instanceof ForeignResponseError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
