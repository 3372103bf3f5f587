/**
 * `parse_mode: Markdown` (Telegram's legacy flavour): `*bold*`, `_italic_`, `` `code` ``,
 * ```` ```pre``` ```` and `[text](url)`, no nesting, `\` escapes only `_ * ` [`. An entity left
 * open is Telegram's `Can't find end of the entity starting at byte offset N`.
 */
import type { MessageEntity } from '../telegram-types.js';
import { byteOffset, cantParseEntities, type FormattedText } from './parse-error.js';

const MARKERS = '_*`[';
const TYPES: Record<string, string> = { _: 'italic', '*': 'bold', '`': 'code', '[': 'text_link' };

export function parseMarkdown(source: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && MARKERS.includes(source[i + 1] ?? '')) {
      text += source[++i];
      continue;
    }
    if (!MARKERS.includes(c)) {
      text += c;
      continue;
    }
    const begin = i;
    const isPre = c === '`' && source[i + 1] === '`' && source[i + 2] === '`';
    const close = c === '[' ? ']' : c;
    i += isPre ? 3 : 1;
    let language: string | undefined;
    if (isPre) {
      const lineEnd = source.indexOf('\n', i);
      const firstLine = lineEnd === -1 ? '' : source.slice(i, lineEnd);
      if (lineEnd !== -1 && /^\S+$/.test(firstLine) && !firstLine.includes('`')) {
        language = firstLine;
        i = lineEnd + 1;
      }
    }
    const start = text.length;
    while (i < source.length && (source[i] !== close || (isPre && !(source[i + 1] === '`' && source[i + 2] === '`')))) text += source[i++];
    if (i >= source.length) throw cantParseEntities(`Can't find end of the entity starting at byte offset ${byteOffset(source, begin)}`);
    if (isPre) i += 2;
    const entity: MessageEntity = { type: isPre ? 'pre' : TYPES[c]!, offset: start, length: text.length - start };
    if (language !== undefined) entity.language = language;
    if (c === '[') {
      if (source[i + 1] !== '(') continue; // `[text]` without a URL is plain text
      const urlEnd = source.indexOf(')', i + 2);
      if (urlEnd === -1) throw cantParseEntities(`Can't find end of a URL at byte offset ${byteOffset(source, i + 2)}`);
      entity.url = source.slice(i + 2, urlEnd);
      i = urlEnd;
    }
    if (entity.length > 0) entities.push(entity);
  }
  return { text, entities };
}
