/**
 * From what a bot sends (text, `parse_mode` or explicit `entities`) to what a user sees: the
 * displayed text and its entities, after Telegram's trimming. Length limits are checked by the
 * caller on the result, as Telegram counts them after parsing.
 */
import { badRequest } from '../envelope.js';
import type { MessageEntity } from '../telegram-types.js';
import { parseHtml } from './html.js';
import { parseMarkdown } from './markdown.js';
import { parseMarkdownV2 } from './markdown-v2.js';
import type { FormattedText } from './parse-error.js';

export type { FormattedText } from './parse-error.js';
export { parseHtml, parseMarkdown, parseMarkdownV2 };

/** Parses `source` in `parseMode` (case-insensitive, as Telegram accepts it); no mode keeps explicit `entities`. */
export function formatText(source: string, parseMode: string | undefined, entities?: MessageEntity[]): FormattedText {
  const mode = parseMode?.toLowerCase() ?? '';
  let formatted: FormattedText;
  if (mode === '') formatted = { text: source, entities: entities ?? [] };
  else if (mode === 'markdownv2') formatted = parseMarkdownV2(source);
  else if (mode === 'markdown') formatted = parseMarkdown(source);
  else if (mode === 'html') formatted = parseHtml(source);
  else throw badRequest(`unsupported parse_mode`);
  return trimmed(formatted);
}

/** Telegram drops leading and trailing whitespace from message texts; entities shift along. */
function trimmed({ text, entities }: FormattedText): FormattedText {
  const lead = text.length - text.trimStart().length;
  const kept = text.trim();
  const shifted: MessageEntity[] = [];
  for (const entity of entities) {
    const start = Math.max(0, entity.offset - lead);
    const end = Math.min(kept.length, entity.offset - lead + entity.length);
    if (end > start) shifted.push({ ...entity, offset: start, length: end - start });
  }
  return { text: kept, entities: shifted };
}
