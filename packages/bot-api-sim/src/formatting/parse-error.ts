/**
 * What the formatting parsers share: Telegram's `can't parse entities` error and the UTF-8 byte
 * offsets its messages quote (Telegram counts bytes, JavaScript strings count UTF-16 units).
 */
import { type ApiError, badRequest } from '../envelope.js';
import type { MessageEntity } from '../telegram-types.js';

export function cantParseEntities(detail: string): ApiError {
  return badRequest(`can't parse entities: ${detail}`);
}

/** UTF-8 byte offset of string index `index` in `source`. */
export function byteOffset(source: string, index: number): number {
  return Buffer.byteLength(source.slice(0, index), 'utf8');
}

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}
