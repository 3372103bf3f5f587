/**
 * Telegram's response envelope and the error descriptions the simulator answers with. Every
 * failure inside the sim is an `ApiError`; only the HTTP layer turns it into bytes. Descriptions
 * are Telegram's own wording, so a bot's error handling written against the sim matches real
 * Telegram string for string.
 */

export interface ResponseParameters {
  retry_after?: number;
  migrate_to_chat_id?: number;
}

export interface OkEnvelope<T = unknown> {
  ok: true;
  result: T;
  description?: string;
}

export interface ErrorEnvelope {
  ok: false;
  error_code: number;
  description: string;
  parameters?: ResponseParameters;
}

export type Envelope<T = unknown> = OkEnvelope<T> | ErrorEnvelope;

/** A Telegram-style failure: its `errorCode` is also the HTTP status of the response. */
export class ApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(description);
    this.name = 'ApiError';
  }

  toEnvelope(): ErrorEnvelope {
    const envelope: ErrorEnvelope = { ok: false, error_code: this.errorCode, description: this.description };
    if (this.parameters !== undefined) envelope.parameters = this.parameters;
    return envelope;
  }
}

export function okEnvelope<T>(result: T, description?: string): OkEnvelope<T> {
  return description === undefined ? { ok: true, result } : { ok: true, result, description };
}

export function badRequest(detail: string): ApiError {
  return new ApiError(400, `Bad Request: ${detail}`);
}

export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized');
export const notFound = (): ApiError => new ApiError(404, 'Not Found');
export const payloadTooLarge = (): ApiError => new ApiError(413, 'Request Entity Too Large');

export const conflictOtherPoll = (): ApiError =>
  new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
export const conflictWebhookActive = (): ApiError =>
  new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
export const conflictSetWebhook = (): ApiError => new ApiError(409, 'Conflict: terminated by setWebhook request');

export function tooManyRequests(retryAfterSeconds: number): ApiError {
  return new ApiError(429, `Too Many Requests: retry after ${retryAfterSeconds}`, { retry_after: retryAfterSeconds });
}

/** Descriptions used by more than one method. */
export const describe = {
  chatNotFound: 'chat not found',
  chatIdEmpty: 'chat_id is empty',
  textEmpty: 'message text is empty',
  textTooLong: 'message is too long',
  captionTooLong: 'message caption is too long',
  notModified:
    'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  editNotFound: 'message to edit not found',
  deleteNotFound: 'message to delete not found',
  cantBeEdited: "message can't be edited",
  replyNotFound: 'message to be replied not found',
  badReplyMarkup: "can't parse reply keyboard markup JSON object",
  queryTooOld: 'query is too old and response timeout expired or query ID is invalid',
} as const;
