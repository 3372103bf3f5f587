/**
 * Typed reads of one request's parameters with the Bot API's coercions: form fields arrive as
 * strings, so numbers, booleans and JSON-serialized objects (reply_markup, commands,
 * allowed_updates) are parsed here, per field, and a bad value becomes a 400 with Telegram's
 * wording where Telegram has one.
 */
import type { UploadedFile } from './body.js';
import { badRequest, describe } from './envelope.js';
import type { JsonObject, JsonValue } from './telegram-types.js';

export class Params {
  constructor(
    private readonly fields: Record<string, unknown>,
    readonly files: ReadonlyMap<string, UploadedFile> = new Map(),
  ) {}

  has(name: string): boolean {
    const value = this.fields[name];
    return value !== undefined && value !== null && value !== '';
  }

  string(name: string): string | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null) return undefined;
    return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }

  integer(name: string): number | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null || value === '') return undefined;
    const number = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number)) throw badRequest(`invalid ${name} specified`);
    return number;
  }

  boolean(name: string): boolean | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === '1' || value === 1) return true;
    if (value === 'false' || value === '0' || value === 0) return false;
    throw badRequest(`invalid ${name} specified`);
  }

  /** A structured field: an object/array in a JSON body, or its JSON text in a form. */
  json(name: string, describeFailure: string): JsonValue | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') return value as JsonValue;
    try {
      return JSON.parse(value) as JsonValue;
    } catch {
      throw badRequest(describeFailure);
    }
  }

  /** `chat_id`: an integer id or an `@username`. */
  chatId(name = 'chat_id'): number | string {
    const value = this.fields[name];
    if (value === undefined || value === null || value === '') throw badRequest(describe.chatIdEmpty);
    if (typeof value === 'string' && value.startsWith('@')) return value;
    const id = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(id)) throw badRequest(describe.chatNotFound);
    return id;
  }

  /** `reply_markup`, which must be a JSON object. */
  replyMarkup(): JsonObject | undefined {
    const markup = this.json('reply_markup', describe.badReplyMarkup);
    if (markup === undefined) return undefined;
    if (markup === null || typeof markup !== 'object' || Array.isArray(markup)) throw badRequest(describe.badReplyMarkup);
    return markup;
  }
}
