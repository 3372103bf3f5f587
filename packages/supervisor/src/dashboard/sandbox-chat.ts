/**
 * The sandbox chat panel's server side: the page talks to the bridge bot as the sandbox's sim
 * user. Sending goes to the simulator's control API (`POST /sim/bots/:token/messages`, which
 * marks a leading `/command` as a command); reading is the chat's transcript after a cursor,
 * long-polled through the sim's wait route so a reply or an edit shows as soon as it happens.
 *
 * The sim's transcript holds only what the bot did, so the user's own messages sent from here
 * are kept (bounded) and merged in at the transcript position they were sent at. The token stays
 * in this process: it is used in sim URLs and never appears in an answer.
 */
import { redact } from '@botvisor/core';
import type { ChatItem, ChatPage } from './dashboard-types.js';
import { HttpError } from './http-io.js';

export interface SandboxOptions {
  /** The simulator's base URL (its control API is under `/sim/`). */
  simUrl: string;
  /** The token of the bot the panel talks to. */
  token: string;
  user: { id: number; first_name: string };
  chatId: number;
}

interface SentMessage {
  n: number;
  text: string;
  at: string;
  messageId: number | null;
  /** The transcript cursor when it was sent: it goes after that entry. */
  afterSeq: number;
}

/** One sim transcript entry, as far as the panel reads it. */
interface TranscriptEntry {
  seq: number;
  kind: string;
  timestamp: number;
  message_id?: number;
  text?: string;
  reply_markup?: unknown;
  document?: { file_name?: string };
  action?: string;
}

const KEEP_SENT = 500;
const MAX_WAIT_MS = 25_000;

export class SandboxChat {
  private readonly sent: SentMessage[] = [];
  private sentCount = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly o: SandboxOptions,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  private botPath(rest: string): string {
    return `${this.o.simUrl.replace(/\/$/, '')}/sim/bots/${encodeURIComponent(this.o.token)}${rest}`;
  }

  /** Calls the sim's control API; undefined for the answers the caller expects (`okStatuses`), the result otherwise. */
  private async call<T>(url: string, init: RequestInit, quiet: number[] = []): Promise<T | undefined> {
    let response: Response;
    try {
      response = await this.fetchFn(url, init);
    } catch (err) {
      if ((err as Error).name === 'AbortError') return undefined;
      throw new HttpError(502, `the simulator did not answer: ${redact((err as Error).message)}`);
    }
    const body = (await response.json().catch(() => undefined)) as { ok?: boolean; result?: T; description?: string } | undefined;
    if (response.ok && body?.ok === true) return body.result;
    if (quiet.includes(response.status)) return undefined;
    throw new HttpError(502, `the simulator refused: ${redact(body?.description ?? `HTTP ${response.status}`)}`);
  }

  /** Sends `text` as the sim user; answers with the item to show at once. */
  async send(text: unknown): Promise<{ item: ChatItem; userCursor: number }> {
    if (typeof text !== 'string' || text.trim() === '') throw new HttpError(400, 'type a message first');
    if (text.length > 4096) throw new HttpError(400, 'a Telegram message has at most 4096 characters');
    const { user, chatId } = this.o;
    const chat = chatId === user.id ? {} : { chat: { id: chatId, type: chatId < 0 ? 'group' : 'private' } };
    const result = await this.call<{ message_id?: number; cursor: number }>(this.botPath('/messages'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text, user, ...chat }),
    });
    if (result === undefined) throw new HttpError(502, 'the simulator did not take the message');
    this.sentCount++;
    const sent: SentMessage = { n: this.sentCount, text, at: new Date().toISOString(), messageId: result.message_id ?? null, afterSeq: result.cursor };
    this.sent.push(sent);
    if (this.sent.length > KEEP_SENT) this.sent.shift();
    for (const wake of [...this.waiters]) wake();
    return { item: userItem(sent), userCursor: this.sentCount };
  }

  /**
   * What happened after cursors `after` (transcript) and `userAfter` (messages sent from here).
   * With `waitMs`, holds the request until there is something new or the time is up.
   */
  async page(after: number, userAfter: number, waitMs: number, signal: AbortSignal): Promise<ChatPage> {
    let { known, ...page } = await this.read(after, userAfter);
    if (page.items.length > 0 || waitMs <= 0 || signal.aborted) return page;
    await this.waitForNews(page.cursor, Math.min(waitMs, MAX_WAIT_MS), known, signal);
    ({ known, ...page } = await this.read(after, userAfter));
    return page;
  }

  private async read(after: number, userAfter: number): Promise<ChatPage & { known: boolean }> {
    const transcript = await this.call<{ entries: TranscriptEntry[]; cursor: number }>(this.botPath(`/chats/${this.o.chatId}/transcript?after=${after}`), {}, [400]);
    const entries = transcript?.entries ?? [];
    const mine = this.sent.filter((s) => s.n > userAfter);
    const keyed: Array<{ key: number; item: ChatItem }> = [
      ...entries.map((e) => ({ key: e.seq, item: botItem(e) })),
      // After the entry it was sent after, before the next one.
      ...mine.map((s) => ({ key: s.afterSeq + 0.5, item: userItem(s) })),
    ];
    keyed.sort((a, b) => a.key - b.key);
    return { items: keyed.map((k) => k.item), cursor: transcript?.cursor ?? after, userCursor: this.sentCount, known: transcript !== undefined };
  }

  /** Until the bot writes past `cursor` (the sim's wait), a message is sent from here, the time is up or the browser leaves. */
  private async waitForNews(cursor: number, waitMs: number, chatKnown: boolean, signal: AbortSignal): Promise<void> {
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const wake = (): void => stop.abort();
    this.waiters.add(wake);
    const timer = setTimeout(() => stop.abort(), waitMs);
    try {
      const gone = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
      // A chat nobody wrote in yet has no transcript at the sim: only our own send can change that.
      const botWrote = chatKnown
        ? this.call(this.botPath(`/chats/${this.o.chatId}/wait?after=${cursor}&timeoutMs=${waitMs}`), { signal: stop.signal }, [400, 408])
        : gone;
      await Promise.race([botWrote, gone]);
    } finally {
      clearTimeout(timer);
      this.waiters.delete(wake);
      signal.removeEventListener('abort', onAbort);
      stop.abort(); // ends the sim's held wait if it is still open
    }
  }
}

function userItem(s: SentMessage): ChatItem {
  return { id: `u${s.n}`, from: 'user', kind: 'message', messageId: s.messageId, text: s.text, at: s.at, buttons: [] };
}

function botItem(e: TranscriptEntry): ChatItem {
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
