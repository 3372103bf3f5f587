/**
 * `parse_mode: HTML` the way Telegram parses it: the supported tags (nesting allowed), the four
 * named entities plus numeric ones, and Telegram's error messages with UTF-8 byte offsets for an
 * unsupported, unclosed or unmatched tag. Produces the displayed text and its entities.
 */
import type { MessageEntity } from '../telegram-types.js';
import { byteOffset, cantParseEntities, type FormattedText } from './parse-error.js';

const TAG_TYPES: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

interface OpenTag {
  tag: string;
  attributes: Map<string, string>;
  start: number;
  sourceIndex: number;
}

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);

export function parseHtml(source: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  const open: OpenTag[] = [];
  const at = (index: number): number => byteOffset(source, index);

  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '&') {
      const decoded = decodeEntity(source, i);
      if (decoded !== undefined) {
        text += decoded.char;
        i = decoded.end - 1;
        continue;
      }
    }
    if (c !== '<') {
      text += c;
      continue;
    }

    const begin = i++;
    if (source[i] === '/') {
      i++;
      const nameStart = i;
      while (i < source.length && !isSpace(source[i]) && source[i] !== '>') i++;
      const name = source.slice(nameStart, i).toLowerCase();
      while (isSpace(source[i])) i++;
      if (source[i] !== '>') throw cantParseEntities(`Unclosed end tag at byte offset ${at(begin)}`);
      const top = open.pop();
      if (top === undefined) throw cantParseEntities(`Unexpected end tag at byte offset ${at(begin)}`);
      if (name !== '' && name !== top.tag) {
        throw cantParseEntities(`Unmatched end tag at byte offset ${at(begin)}, expected "</${top.tag}>", found "</${name}>"`);
      }
      closeTag(top, text, entities);
      continue;
    }

    const nameStart = i;
    while (i < source.length && !isSpace(source[i]) && source[i] !== '>') i++;
    if (i >= source.length) throw cantParseEntities(`Unclosed start tag at byte offset ${at(begin)}`);
    const tag = source.slice(nameStart, i).toLowerCase();
    if (TAG_TYPES[tag] === undefined) throw cantParseEntities(`Unsupported start tag "${tag}" at byte offset ${at(begin)}`);
    const { attributes, end } = readAttributes(source, i, tag, at(begin));
    i = end;
    if (tag === 'span' && attributes.get('class') !== 'tg-spoiler') throw cantParseEntities('Tag "span" must have class "tg-spoiler"');
    open.push({ tag, attributes, start: text.length, sourceIndex: begin });
  }

  const unclosed = open.at(-1);
  if (unclosed !== undefined) throw cantParseEntities(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

/** Attributes up to the closing `>`; returns the index of that `>`. */
function readAttributes(source: string, from: number, tag: string, tagOffset: number): { attributes: Map<string, string>; end: number } {
  const attributes = new Map<string, string>();
  let i = from;
  for (;;) {
    while (isSpace(source[i])) i++;
    if (i >= source.length) throw cantParseEntities(`Unclosed start tag at byte offset ${tagOffset}`);
    if (source[i] === '>') return { attributes, end: i };
    const nameStart = i;
    while (i < source.length && !isSpace(source[i]) && source[i] !== '=' && source[i] !== '>') i++;
    const name = source.slice(nameStart, i).toLowerCase();
    while (isSpace(source[i])) i++;
    if (source[i] !== '=') {
      // A bare attribute, such as <blockquote expandable>.
      if (name === '') throw cantParseEntities(`Expected equal sign in declaration of an attribute of the tag "${tag}" at byte offset ${tagOffset}`);
      attributes.set(name, '');
      continue;
    }
    i++;
    while (isSpace(source[i])) i++;
    if (i >= source.length) throw cantParseEntities(`Unclosed start tag at byte offset ${tagOffset}`);
    let value = '';
    const quote = source[i];
    if (quote === '"' || quote === "'") {
      i++;
      while (i < source.length && source[i] !== quote) {
        const decoded = source[i] === '&' ? decodeEntity(source, i) : undefined;
        if (decoded !== undefined) {
          value += decoded.char;
          i = decoded.end;
        } else value += source[i++];
      }
      i++;
    } else {
      const valueStart = i;
      while (i < source.length && /[A-Za-z0-9.-]/.test(source[i]!)) i++;
      value = source.slice(valueStart, i).toLowerCase();
    }
    attributes.set(name, value);
  }
}

function closeTag(tag: OpenTag, text: string, entities: MessageEntity[]): void {
  const length = text.length - tag.start;
  if (length <= 0) return;
  const type = TAG_TYPES[tag.tag]!;
  const entity: MessageEntity = { type, offset: tag.start, length };
  if (type === 'text_link') {
    entity.url = tag.attributes.get('href') ?? text.slice(tag.start);
  } else if (type === 'custom_emoji') {
    entity.custom_emoji_id = tag.attributes.get('emoji-id') ?? '';
  } else if (type === 'blockquote' && tag.attributes.has('expandable')) {
    entity.type = 'expandable_blockquote';
  } else if (type === 'code') {
    // <pre><code class="language-x">…</code></pre> is one pre entity with a language.
    const language = /^language-(.+)$/.exec(tag.attributes.get('class') ?? '')?.[1];
    if (language !== undefined) {
      entities.push({ type: 'pre', offset: tag.start, length, language });
      return;
    }
  } else if (type === 'pre') {
    if (entities.some((e) => e.type === 'pre' && e.offset === tag.start && e.length === length)) return;
  }
  entities.push(entity);
}

/** `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&#NN;`, `&#xHH;`; undefined for anything else, which stays literal. */
function decodeEntity(source: string, index: number): { char: string; end: number } | undefined {
  let end = index + 1;
  let code: number | undefined;
  if (source[end] === '#') {
    end++;
    const hex = source[end] === 'x';
    if (hex) end++;
    const digitsStart = end;
    while (end < source.length && (hex ? /[0-9a-fA-F]/ : /[0-9]/).test(source[end]!)) end++;
    if (end === digitsStart || end - index >= 10) return undefined;
    code = Number.parseInt(source.slice(digitsStart, end), hex ? 16 : 10);
    if (code === 0 || code >= 0x10ffff) return undefined;
  } else {
    while (end < source.length && /[A-Za-z]/.test(source[end]!)) end++;
    const named = NAMED_ENTITIES[source.slice(index + 1, end)];
    if (named === undefined) return undefined;
    code = named.codePointAt(0)!;
  }
  if (source[end] === ';') end++;
  return { char: String.fromCodePoint(code), end };
}
