/**
 * The inline buttons on screen in `botvisor chat`: per bot message, its current keyboard (an edit
 * replaces it, an edit without one removes it, a deletion drops it), and which message with
 * buttons was shown last, so `:N` taps what the user just saw. Pure bookkeeping.
 */
import type { TranscriptEntry } from '@botvisor/bot-api-sim';

export interface ChatButton {
  label: string;
  /** callback_data: tapping sends it to the bot. */
  data?: string;
  /** A link button: nothing to tap, only to open. */
  url?: string;
}

export type TapTarget = { ok: true; messageId: number; button: ChatButton } | { ok: false; reason: string };

/** The buttons of an inline keyboard, in reading order (row by row); anything else has none. */
export function inlineButtons(markup: unknown): ChatButton[] {
  const rows = typeof markup === 'object' && markup !== null ? (markup as { inline_keyboard?: unknown }).inline_keyboard : undefined;
  if (!Array.isArray(rows)) return [];
  const buttons: ChatButton[] = [];
  for (const row of rows) {
    if (!Array.isArray(row)) continue;
    for (const b of row) {
      if (typeof b !== 'object' || b === null) continue;
      const o = b as Record<string, unknown>;
      if (typeof o.text !== 'string') continue;
      const button: ChatButton = { label: o.text };
      if (typeof o.callback_data === 'string') button.data = o.callback_data;
      if (typeof o.url === 'string') button.url = o.url;
      buttons.push(button);
    }
  }
  return buttons;
}

export class ButtonBoard {
  /** Message id → its buttons; Map order = the order they were last shown in. */
  private readonly byMessage = new Map<number, ChatButton[]>();

  /** Records what an entry did to the keyboards. */
  see(entry: TranscriptEntry): void {
    const id = entry.message_id;
    if (id === undefined) return;
    if (entry.kind === 'deleted') {
      this.byMessage.delete(id);
      return;
    }
    if (entry.kind !== 'sent' && entry.kind !== 'edited' && entry.kind !== 'document') return;
    this.byMessage.delete(id); // re-inserted at the end: shown last
    const buttons = inlineButtons(entry.reply_markup);
    if (buttons.length > 0) this.byMessage.set(id, buttons);
  }

  /** Button `n` (from 1) of the message with buttons shown last. */
  target(n: number): TapTarget {
    const last = [...this.byMessage.entries()].pop();
    if (last === undefined) return { ok: false, reason: 'no message with buttons yet' };
    const [messageId, buttons] = last;
    const button = buttons[n - 1];
    if (button === undefined) return { ok: false, reason: `the latest message with buttons has ${buttons.length === 1 ? 'one button (:1)' : `${buttons.length} buttons (:1 to :${buttons.length})`}` };
    if (button.data === undefined) return { ok: false, reason: button.url !== undefined ? `"${button.label}" is a link, not a button to tap: ${button.url}` : `"${button.label}" has nothing to send` };
    return { ok: true, messageId, button };
  }
}
