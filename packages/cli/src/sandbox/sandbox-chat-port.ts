/**
 * The dashboard's sandbox chat panel, spoken through the simulator's control API with
 * `SimBotClient`: the supervisor's `SandboxChatPort`, built by the sandbox and handed to
 * `Supervisor.start({ sandbox })`. Sending is a message as the sim user (a leading `/command` is
 * a command), tapping is a tap on a bot message's inline button; reading is the chat's transcript
 * after a cursor, long-polled through the sim's wait route so a reply or an edit shows as soon as
 * it happens.
 *
 * The sim's transcript holds only what the bot did; what the user wrote — from here or from
 * `botvisor chat` in a terminal — is the sim's user log (the newest 500), merged in at the
 * transcript position it was written at. The token stays in the client: the dashboard gets only
 * its hash, and no answer or error names it.
 */
import { type ChatSpec, type SimBotClient, SimClientError, USER_LOG_KEEP, type UserLogEntry } from '@botvisor/bot-api-sim';
import { tokenHash } from '@botvisor/core';
import type { ChatPage, ChatSent, SandboxChatPort } from '@botvisor/supervisor';
import { botItem, type PanelMessage, userItem } from './panel-items.js';

/** How many of the user's messages the sim keeps for merging; older ones drop out of pages. */
export const KEEP_SENT = USER_LOG_KEEP;

export interface SimSandboxChatOptions {
  /** The sandbox's bot at the simulator. */
  bot: SimBotClient;
  user: { id: number; first_name: string };
  chatId: number;
}

export class SimSandboxChat implements SandboxChatPort {
  readonly user: { id: number; first_name: string };
  readonly chatId: number;
  readonly botTokenHash: string;
  /** Truly private: the token is in here, and nothing that holds the port can reach it. */
  readonly #bot: SimBotClient;
  /** Long polls waiting for news: a send from here wakes them. */
  private readonly waiters = new Set<() => void>();

  constructor(o: SimSandboxChatOptions) {
    this.#bot = o.bot;
    this.user = o.user;
    this.chatId = o.chatId;
    this.botTokenHash = tokenHash(o.bot.token);
  }

  async send(text: string): Promise<ChatSent> {
    const result = await simAnswer(this.#bot.sendMessage({ text, user: this.user, ...this.chatSpec() }));
    if (result === undefined) throw new Error('the simulator did not take the message');
    // Its place in the user log (the sim's count of the user's messages in this chat).
    const log = await simAnswer(this.#bot.userMessages(this.chatId, 0));
    const entry = log?.messages.find((m) => m.message_id === result.message_id);
    const sent: PanelMessage = entry !== undefined ? panelMessage(entry) : { n: log?.cursor ?? 0, text, at: new Date().toISOString(), messageId: result.message_id ?? null, afterSeq: result.cursor };
    for (const wake of [...this.waiters]) wake();
    return { item: userItem(sent), userCursor: log?.cursor ?? sent.n };
  }

  async tap(messageId: number, data: string): Promise<void> {
    await simAnswer(this.#bot.tapButton({ user: this.user, message_id: messageId, data, ...this.chatSpec() }));
  }

  /** The chat as the sim wants it named: a group or another person's chat by spec, the user's own by default. */
  private chatSpec(): { chat?: ChatSpec } {
    const { user, chatId } = this;
    return chatId === user.id ? {} : { chat: { id: chatId, type: chatId < 0 ? 'group' : 'private' } };
  }

  async page(after: number, userAfter: number, waitMs: number, signal: AbortSignal): Promise<ChatPage> {
    let { known, ...page } = await this.read(after, userAfter);
    if (page.items.length > 0 || waitMs <= 0 || signal.aborted) return page;
    await this.waitForNews(page.cursor, waitMs, known, signal);
    ({ known, ...page } = await this.read(after, userAfter));
    return page;
  }

  private async read(after: number, userAfter: number): Promise<ChatPage & { known: boolean }> {
    // 400: a chat nobody wrote in yet has no transcript (and no user log) at the sim.
    const transcript = await simAnswer(this.#bot.transcript(this.chatId, after), [400]);
    const userLog = transcript === undefined ? undefined : await simAnswer(this.#bot.userMessages(this.chatId, userAfter), [400]);
    const entries = transcript?.entries ?? [];
    const keyed = [
      ...entries.map((e) => ({ key: e.seq, item: botItem(e) })),
      // After the entry it was written after, before the next one.
      ...(userLog?.messages ?? []).map((m) => ({ key: m.after_seq + 0.5, item: userItem(panelMessage(m)) })),
    ];
    keyed.sort((a, b) => a.key - b.key);
    return { items: keyed.map((k) => k.item), cursor: transcript?.cursor ?? after, userCursor: userLog?.cursor ?? userAfter, known: transcript !== undefined };
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
      const botWrote = chatKnown ? simAnswer(this.#bot.waitForMessage(this.chatId, { after: cursor, timeoutMs: waitMs, signal: stop.signal }), [400, 408]) : gone;
      await Promise.race([botWrote, gone]);
    } finally {
      clearTimeout(timer);
      this.waiters.delete(wake);
      signal.removeEventListener('abort', onAbort);
      stop.abort(); // ends the sim's held wait if it is still open
    }
  }
}

function panelMessage(m: UserLogEntry): PanelMessage {
  return { n: m.n, text: m.text, at: new Date(m.timestamp).toISOString(), messageId: m.message_id, afterSeq: m.after_seq };
}

/**
 * The sim's answer; undefined for an aborted request and for the refusals the caller expects
 * (`quiet` error codes). Anything else rejects with a sentence saying the simulator failed.
 */
async function simAnswer<T>(answer: Promise<T>, quiet: readonly number[] = []): Promise<T | undefined> {
  try {
    return await answer;
  } catch (err) {
    if (err instanceof SimClientError) {
      if (quiet.includes(err.errorCode)) return undefined;
      throw new Error(`the simulator refused: ${err.description}`);
    }
    if ((err as Error).name === 'AbortError') return undefined;
    throw new Error(`the simulator did not answer: ${(err as Error).message}`);
  }
}
