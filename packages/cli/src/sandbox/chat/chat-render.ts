/**
 * How `botvisor chat` shows what the bot did: one block of text per transcript entry — a message,
 * an edit (marked, so live output reads as a sequence of updates), a file, a deletion, the answer
 * to a button tap — with inline buttons numbered for `:N`. Typing indicators are not shown. Pure.
 */
import type { TranscriptEntry } from '@botvisor/bot-api-sim';
import { bytes } from '../../format/human.js';
import { inlineButtons } from './button-board.js';

/** A new long message shows its first lines. */
export const MAX_LINES = 30;
/** An edit shows its first line (a live job's header) and its last lines: live output grows at the end, and the earlier lines were shown already. */
export const EDIT_TAIL_LINES = 8;

function clipNew(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length <= MAX_LINES) return lines;
  return [...lines.slice(0, MAX_LINES), `… ${lines.length - MAX_LINES} more lines`];
}

function clipEdit(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length <= EDIT_TAIL_LINES + 2) return lines;
  const hidden = lines.length - 1 - EDIT_TAIL_LINES;
  return [lines[0] as string, `… ${hidden} lines`, ...lines.slice(-EDIT_TAIL_LINES)];
}

/** `head` before the first line, the others indented under it. */
function block(head: string, lines: string[]): string {
  const pad = ' '.repeat(head.length);
  return lines.map((line, i) => (i === 0 ? head : pad) + line).join('\n');
}

function buttonsLine(markup: unknown): string[] {
  const buttons = inlineButtons(markup);
  if (buttons.length === 0) return [];
  return [buttons.map((b, i) => `[${i + 1}] ${b.label}${b.url !== undefined ? ' (link)' : ''}`).join('  ') + '   (type :N to tap)'];
}

/** The entry as terminal text; undefined for what the chat does not show (chat actions). */
export function renderEntry(entry: TranscriptEntry, bot: string): string | undefined {
  const id = entry.message_id === undefined ? '' : ` #${entry.message_id}`;
  switch (entry.kind) {
    case 'sent':
      return block(`${bot}> `, [...clipNew(entry.text ?? ''), ...buttonsLine(entry.reply_markup)]);
    case 'edited':
      return block(`${bot} (edited${id})> `, [...clipEdit(entry.text ?? ''), ...buttonsLine(entry.reply_markup)]);
    case 'document': {
      const d = entry.document ?? {};
      const about = [d.file_size !== undefined ? bytes(d.file_size) : undefined, d.mime_type].filter((s) => s !== undefined).join(', ');
      const caption = entry.text !== undefined && entry.text !== '' ? clipNew(entry.text) : [];
      return block(`${bot}> `, [`[file] ${d.file_name ?? 'a file'}${about !== '' ? ` (${about})` : ''}`, ...caption, ...buttonsLine(entry.reply_markup)]);
    }
    case 'deleted':
      return `${bot} deleted message${id}`;
    case 'callback_answer':
      if (entry.text === undefined || entry.text === '') return undefined;
      return `${bot} (${entry.show_alert === true ? 'alert' : 'answer to your tap'})> ${entry.text}`;
    default:
      return undefined;
  }
}
