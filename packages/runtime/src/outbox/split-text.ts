/**
 * Splits a message text longer than Telegram's 4096 characters into parts that each fit. Cuts go
 * on paragraph boundaries first, then line boundaries, then spaces, only as a last resort
 * anywhere — never inside an entity (bold, a link, a code block), never between the two halves
 * of a surrogate pair (an emoji). Lengths are in UTF-16 code units, as Telegram
 * counts them and as a JavaScript string's `length` does.
 *
 * An entity longer than a whole part (a 10 000-character code block) cannot stay whole: it is
 * cut and each part keeps its own piece of it, so a code block stays a code block in every part.
 * Texts with `parse_mode` markup go through split-markup.ts instead.
 */
import type { MessageEntity } from 'node-telegram-bot-api';

export const TELEGRAM_TEXT_LIMIT = 4096;

export interface TextPart {
  text: string;
  entities?: MessageEntity[];
}

/** Where a part ends, and where the next one starts (the separator in between is dropped). */
interface Cut {
  end: number;
  next: number;
}

const SEPARATORS = ['\n\n', '\n', ' '] as const;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** True when cutting out [from, to) touches no entity: each entity ends before or starts after it. */
function clearOfEntities(entities: readonly MessageEntity[], from: number, to: number): boolean {
  for (const e of entities) {
    if (e.offset < to && e.offset + e.length > from) return false;
  }
  return true;
}

/** Never leaves a high surrogate at the end of a part. */
function surrogateSafe(text: string, at: number, start: number): number {
  return at - 1 > start && isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at;
}

function findCut(text: string, start: number, limit: number, entities: readonly MessageEntity[]): Cut {
  const end = start + limit;
  for (const sep of SEPARATORS) {
    // The last separator that still fits in this part and leaves it non-empty.
    for (let i = text.lastIndexOf(sep, end - sep.length); i > start; i = text.lastIndexOf(sep, i - 1)) {
      if (clearOfEntities(entities, i, i + sep.length)) return { end: i, next: i + sep.length };
    }
  }
  // No separator: the latest entity boundary in range, so at least the entity stays whole.
  let boundary = -1;
  for (const e of entities) {
    for (const at of [e.offset, e.offset + e.length]) {
      if (at > start && at <= end && at > boundary && clearOfEntities(entities, at, at)) boundary = at;
    }
  }
  const at = surrogateSafe(text, boundary > start ? boundary : end, start);
  return { end: at, next: at };
}

/** The entities of [start, end), moved to the part's own offsets; an entity crossing the cut keeps its piece. */
function entitiesOf(entities: readonly MessageEntity[], start: number, end: number): MessageEntity[] {
  const out: MessageEntity[] = [];
  for (const e of entities) {
    const from = Math.max(e.offset, start);
    const to = Math.min(e.offset + e.length, end);
    if (to > from) out.push({ ...e, offset: from - start, length: to - from });
  }
  return out;
}

/** Splits `text` (and its explicit `entities`) into parts of at most `limit` characters. */
export function splitText(text: string, entities?: readonly MessageEntity[], limit = TELEGRAM_TEXT_LIMIT): TextPart[] {
  const all = entities ?? [];
  const parts: TextPart[] = [];
  const push = (start: number, end: number): void => {
    const slice = text.slice(start, end);
    if (slice.trim() === '') return; // Telegram refuses an empty text
    const own = entitiesOf(all, start, end);
    parts.push(entities === undefined ? { text: slice } : { text: slice, entities: own });
  };
  let start = 0;
  while (text.length - start > limit) {
    const cut = findCut(text, start, limit, all);
    push(start, cut.end);
    start = cut.next;
  }
  push(start, text.length);
  return parts;
}
