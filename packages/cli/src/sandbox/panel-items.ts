/**
 * How the sandbox chat shows in the dashboard's panel: one `ChatItem` per simulator transcript
 * entry (what the bot did) or per message the user sent from the panel. Pure mapping.
 */
import type { TranscriptEntry } from '@botvisor/bot-api-sim';
import type { ChatItem, ChatKey } from '@botvisor/supervisor';

/** A message the user wrote, from the panel or a terminal (the sim's user log; its transcript holds only the bot's side). */
export interface PanelMessage {
  /** 1-based count of the user's messages in the chat: the `userCursor` that includes it. */
  n: number;
  text: string;
  at: string;
  messageId: number | null;
  /** The transcript cursor when it was sent: it goes after that entry. */
  afterSeq: number;
}

export function userItem(m: PanelMessage): ChatItem {
  return { id: `u${m.n}`, from: 'user', kind: 'message', messageId: m.messageId, text: m.text, at: m.at, buttons: [], keys: [] };
}

export function botItem(e: TranscriptEntry): ChatItem {
  const at = new Date(e.timestamp).toISOString();
  const messageId = e.message_id ?? null;
  const text = e.text ?? '';
  const keys = buttonKeys(e.reply_markup);
  const buttons = keys.map((row) => row.map((k) => k.text));
  switch (e.kind) {
    case 'sent':
      return { id: `b${messageId ?? `s${e.seq}`}`, from: 'bot', kind: 'message', messageId, text, at, buttons, keys };
    case 'document':
      return { id: `b${messageId ?? `s${e.seq}`}`, from: 'bot', kind: 'document', messageId, text: [e.document?.file_name ?? 'a file', text].filter((t) => t !== '').join(' — '), at, buttons, keys };
    case 'edited':
      return { id: `e${e.seq}`, from: 'bot', kind: 'edited', messageId, text, at, buttons, keys };
    case 'deleted':
      return { id: `e${e.seq}`, from: 'bot', kind: 'deleted', messageId, text: '', at, buttons: [], keys: [] };
    case 'chat_action':
      return { id: `e${e.seq}`, from: 'bot', kind: 'action', messageId: null, text: e.action ?? '', at, buttons: [], keys: [] };
    default:
      return { id: `e${e.seq}`, from: 'bot', kind: 'callback_answer', messageId: null, text, at, buttons: [], keys: [] };
  }
}

/** The labels of an inline or reply keyboard, row by row; anything else yields no buttons. */
export function buttonLabels(markup: unknown): string[][] {
  return buttonKeys(markup).map((row) => row.map((k) => k.text));
}

/** The buttons of an inline or reply keyboard, row by row, with the callback data a tap sends (null: not an inline callback button). */
export function buttonKeys(markup: unknown): ChatKey[][] {
  if (typeof markup !== 'object' || markup === null) return [];
  const m = markup as { inline_keyboard?: unknown; keyboard?: unknown };
  const rows = Array.isArray(m.inline_keyboard) ? m.inline_keyboard : Array.isArray(m.keyboard) ? m.keyboard : [];
  return rows
    .filter((row): row is unknown[] => Array.isArray(row))
    .map((row) => row.map(keyOf).filter((k): k is ChatKey => k !== undefined && k.text !== ''))
    .filter((row) => row.length > 0);
}

function keyOf(b: unknown): ChatKey | undefined {
  if (typeof b === 'string') return { text: b, data: null };
  if (typeof b !== 'object' || b === null) return undefined;
  const o = b as { text?: unknown; callback_data?: unknown };
  if (typeof o.text !== 'string') return undefined;
  return { text: o.text, data: typeof o.callback_data === 'string' ? o.callback_data : null };
}
