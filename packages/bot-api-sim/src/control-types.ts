/**
 * The shapes the control API (`/sim/…`) answers with, shared by the server and `SimClient`.
 * Telegram data keeps Telegram's snake_case names; the sim's own figures are camelCase.
 */
import type { BotProfile } from './bot-state.js';
import type { BotStatsSnapshot } from './bot-stats.js';
import type { Chat } from './telegram-types.js';
import type { TranscriptEntry } from './transcript.js';
import type { UserLogEntry } from './user-log.js';

export interface BotStatsView extends BotStatsSnapshot {
  botId: number;
  username: string;
  /** Updates queued and not yet confirmed by an offset. */
  pendingUpdates: number;
  /** The webhook, while one is set. */
  webhook: { url: string; maxConnections: number; allowedUpdates?: string[] } | null;
}

export interface TranscriptView {
  entries: TranscriptEntry[];
  /** The last entry's `seq`: pass it as `after` to read or wait past what you have seen. */
  cursor: number;
}

/** What the user wrote in a chat (the newest 500), after a cursor. */
export interface UserMessagesView {
  messages: UserLogEntry[];
  /** How many the user has written in this chat: pass it as `after`. */
  cursor: number;
}

export interface ChatView {
  chat: Chat;
  cursor: number;
}

export interface WaitOptions {
  /** Only messages after this transcript cursor; default 0 (the whole transcript). */
  after?: number;
  /** The message text must be exactly this. */
  text?: string;
  /** The message text must match this regular expression (source; see `flags`). */
  pattern?: string;
  flags?: string;
  /** Default 10000. */
  timeoutMs?: number;
}

export type ProfilePatch = Partial<BotProfile>;

export interface HealthView {
  name: 'bot-api-sim';
  /** The Bot API methods the sim implements. */
  methods: string[];
}
