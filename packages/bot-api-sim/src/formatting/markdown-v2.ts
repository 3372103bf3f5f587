/**
 * `parse_mode: MarkdownV2` the way Telegram's server parses it: entities nest and only the
 * innermost one can be closed, every other reserved character must be escaped with `\`, and a
 * failure is Telegram's own `can't parse entities` message with a UTF-8 byte offset. Produces the
 * displayed text and its entities (UTF-16 offsets, as in the Bot API).
 */
import type { ApiError } from '../envelope.js';
import type { MessageEntity } from '../telegram-types.js';
import { byteOffset, cantParseEntities, type FormattedText } from './parse-error.js';

type EntityType = 'Bold' | 'Italic' | 'Underline' | 'Strikethrough' | 'Spoiler' | 'TextUrl' | 'CustomEmoji' | 'Code' | 'Pre' | 'BlockQuote';

/** Bot API names of the entity types (Telegram's error messages use the names on the left). */
const API_TYPE: Record<EntityType, string> = {
  Bold: 'bold',
  Italic: 'italic',
  Underline: 'underline',
  Strikethrough: 'strikethrough',
  Spoiler: 'spoiler',
  TextUrl: 'text_link',
  CustomEmoji: 'custom_emoji',
  Code: 'code',
  Pre: 'pre',
  BlockQuote: 'blockquote',
};

interface OpenEntity {
  type: EntityType;
  /** Where the entity starts in the output (UTF-16). */
  start: number;
  /** Where its opening marker is in the source, for error messages. */
  sourceIndex: number;
  language?: string;
}

const RESERVED = '_*[]()~`>#+-=|{}.!\n';

export function parseMarkdownV2(source: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  const open: OpenEntity[] = [];
  let inBlockQuote = false;
  let canStartBlockQuote = true;

  const reserved = (index: number): ApiError =>
    cantParseEntities(`Character '${source[index]}' is reserved and must be escaped with the preceding '\\'`);
  const unclosed = (entity: OpenEntity): ApiError =>
    cantParseEntities(`Can't find end of ${entity.type} entity at byte offset ${byteOffset(source, entity.sourceIndex)}`);
  const isEscapable = (index: number): boolean => {
    const code = source.charCodeAt(index);
    return code >= 1 && code <= 126;
  };

  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && isEscapable(i + 1)) {
      i++;
      text += source[i];
      canStartBlockQuote = source[i] === '\n';
      continue;
    }
    const top = open.at(-1);
    const inCode = top?.type === 'Code' || top?.type === 'Pre';
    if (!(inCode ? '`' : RESERVED).includes(c)) {
      text += c;
      if (c !== '\r') canStartBlockQuote = false;
      continue;
    }

    if (top !== undefined && endsEntity(top, source, i, inBlockQuote)) {
      if (c === '\n') {
        // A line without a leading '>' ends the block quote, which must be the only thing open.
        if (top.type !== 'BlockQuote') throw unclosed(top);
        open.pop();
        inBlockQuote = false;
        pushEntity(entities, top, text.length);
        text += '\n';
        canStartBlockQuote = true;
        continue;
      }
      open.pop();
      if (top.type === 'Underline' || top.type === 'Spoiler') i += 1;
      else if (top.type === 'Pre') i += 2;
      if (top.type === 'TextUrl' || top.type === 'CustomEmoji') {
        const link = readLinkTarget(source, i, top);
        i = link.end;
        if (link.url !== '') pushEntity(entities, top, text.length, link.url);
        continue;
      }
      pushEntity(entities, top, text.length);
      continue;
    }

    // Not the end of the innermost entity: the start of a new one, a line break, or an error.
    const entity: OpenEntity = { type: 'Bold', start: text.length, sourceIndex: i };
    switch (c) {
      case '_':
        if (source[i + 1] === '_') {
          entity.type = 'Underline';
          i++;
        } else entity.type = 'Italic';
        break;
      case '*':
        entity.type = 'Bold';
        break;
      case '~':
        entity.type = 'Strikethrough';
        break;
      case '|':
        if (source[i + 1] !== '|') throw reserved(i);
        entity.type = 'Spoiler';
        i++;
        break;
      case '[':
        entity.type = 'TextUrl';
        break;
      case '!':
        if (source[i + 1] !== '[') throw reserved(i);
        entity.type = 'CustomEmoji';
        i++;
        break;
      case '`':
        if (source[i + 1] === '`' && source[i + 2] === '`') {
          entity.type = 'Pre';
          i = openPre(source, i + 3, entity) - 1;
        } else entity.type = 'Code';
        break;
      case '\n':
        text += '\n';
        canStartBlockQuote = true;
        continue;
      case '>':
        if (!canStartBlockQuote) throw reserved(i);
        if (inBlockQuote) continue; // another quoted line of the same block
        entity.type = 'BlockQuote';
        inBlockQuote = true;
        break;
      default:
        throw reserved(i);
    }
    entity.start = text.length;
    open.push(entity);
  }

  const last = open.at(-1);
  if (inBlockQuote && last?.type === 'BlockQuote') {
    open.pop();
    pushEntity(entities, last, text.length);
  }
  const stillOpen = open.at(-1);
  if (stillOpen !== undefined) throw unclosed(stillOpen);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

function endsEntity(top: OpenEntity, source: string, i: number, inBlockQuote: boolean): boolean {
  const c = source[i];
  if (inBlockQuote && c === '\n' && source[i + 1] !== '>') return true;
  switch (top.type) {
    case 'Bold':
      return c === '*';
    case 'Italic':
      return c === '_' && source[i + 1] !== '_';
    case 'Underline':
      return c === '_' && source[i + 1] === '_';
    case 'Strikethrough':
      return c === '~';
    case 'Spoiler':
      return c === '|' && source[i + 1] === '|';
    case 'Code':
      return c === '`';
    case 'Pre':
      return c === '`' && source[i + 1] === '`' && source[i + 2] === '`';
    case 'TextUrl':
    case 'CustomEmoji':
      return c === ']';
    case 'BlockQuote':
      return false;
  }
}

/** After an opening ```: an optional language up to the first line break, which is skipped. Returns the index where the content starts. */
function openPre(source: string, from: number, entity: OpenEntity): number {
  let languageEnd = from;
  while (languageEnd < source.length && !/\s/.test(source[languageEnd]!) && source[languageEnd] !== '`') languageEnd++;
  let i = from;
  if (languageEnd !== from && languageEnd < source.length && source[languageEnd] !== '`') {
    entity.language = source.slice(from, languageEnd);
    i = languageEnd;
  }
  if (source[i] === '\r' && source[i + 1] === '\n') return i + 2;
  if (source[i] === '\n' || source[i] === '\r') return i + 1;
  return i;
}

/** `](url)` after link text; `[text]` alone links to its own text, as on Telegram. */
function readLinkTarget(source: string, closeIndex: number, entity: OpenEntity): { url: string; end: number } {
  if (source[closeIndex + 1] !== '(') {
    if (entity.type === 'CustomEmoji') throw cantParseEntities('Custom emoji entity must contain a tg://emoji URL');
    return { url: '', end: closeIndex };
  }
  const urlStart = closeIndex + 2;
  let url = '';
  let i = urlStart;
  while (i < source.length && source[i] !== ')') {
    const next = source.charCodeAt(i + 1);
    if (source[i] === '\\' && next >= 1 && next <= 126) {
      url += source[i + 1];
      i += 2;
      continue;
    }
    url += source[i];
    i++;
  }
  if (source[i] !== ')') {
    const what = entity.type === 'CustomEmoji' ? 'a custom emoji URL' : 'a URL';
    throw cantParseEntities(`Can't find end of ${what} at byte offset ${byteOffset(source, urlStart)}`);
  }
  return { url, end: i };
}

function pushEntity(entities: MessageEntity[], entity: OpenEntity, end: number, url?: string): void {
  const length = end - entity.start;
  if (length <= 0) return; // Telegram drops empty entities
  const out: MessageEntity = { type: API_TYPE[entity.type], offset: entity.start, length };
  if (entity.type === 'TextUrl' && url !== undefined) out.url = url;
  if (entity.type === 'CustomEmoji' && url !== undefined) out.custom_emoji_id = /[?&]id=(\d+)/.exec(url)?.[1] ?? '';
  if (entity.type === 'Pre' && entity.language !== undefined) out.language = entity.language;
  entities.push(out);
}
