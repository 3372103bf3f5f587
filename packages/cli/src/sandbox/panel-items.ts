/**
 * How the sandbox chat shows in the dashboard's panel: one `ChatItem` per simulator transcript
 * entry (what the bot did) or per message the user sent from the panel. Pure mapping.
 */
import type { TranscriptEntry } from '@botvisor/bot-api-sim';
import type { ChatItem } from '@botvisor/supervisor';

/** A message the user sent from the panel (the sim's transcript holds only the bot's side). */
export interface PanelMessage {
  /** 1-based count of messages sent from the panel: the `userCursor` that includes it. */
  n: number;
  text: string;
  at: string;
  messageId: number | null;
  /** The transcript cursor when it was sent: it goes after that entry. */
  afterSeq: number;
}

export function userItem(m: PanelMessage): ChatItem {
  return { id: `u${m.n}`, from: 'user', kind: 'message', messageId: m.messageId, text: m.text, at: m.at, buttons: [] };
}

export function botItem(e: TranscriptEntry): ChatItem {
  const at = new Date(e.timestamp).toISOString();
  const messageId = e.message_id ?? null;
  const text = e.text ?? '';
  const buttons = buttonLabels(e.reply_markup);
  switch (e.kind) {
    case 'sent':
      return { id: `b${messageId ?? `s${e.seq}`}`, from: 'bot', kind: 'message', messageId, text, at, buttons };
    case 'document':
      return { id: `b${messageId ?? `s${e.seq}`}`, from: 'bot', kind: 'document', messageId, text: [e.document?.file_name ?? 'a file', text].filter((t) => t !== '').join(' — '), at, buttons };
    case 'edited':
      return { id: `e${e.seq}`, from: 'bot', kind: 'edited', messageId, text, at, buttons };
    case 'deleted':
      return { id: `e${e.seq}`, from: 'bot', kind: 'deleted', messageId, text: '', at, buttons: [] };
    case 'chat_action':
      return { id: `e${e.seq}`, from: 'bot', kind: 'action', messageId: null, text: e.action ?? '', at, buttons: [] };
    default:
      return { id: `e${e.seq}`, from: 'bot', kind: 'callback_answer', messageId: null, text, at, buttons: [] };
  }
}

/** The labels of an inline or reply keyboard, row by row; anything else yields no buttons. */
export function buttonLabels(markup: unknown): string[][] {
  if (typeof markup !== 'object' || markup === null) return [];
  const m = markup as { inline_keyboard?: unknown; keyboard?: unknown };
  const rows = Array.isArray(m.inline_keyboard) ? m.inline_keyboard : Array.isArray(m.keyboard) ? m.keyboard : [];
  return rows
    .filter((row): row is unknown[] => Array.isArray(row))
    .map((row) => row.map((b) => (typeof b === 'string' ? b : typeof b === 'object' && b !== null && typeof (b as { text?: unknown }).text === 'string' ? (b as { text: string }).text : '')).filter((t) => t !== ''))
    .filter((row) => row.length > 0);
}
