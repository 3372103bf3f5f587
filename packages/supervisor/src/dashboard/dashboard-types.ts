/**
 * The dashboard's JSON contract: what `/api/session`, `/api/state` (and each `state` event of
 * `/api/stream`), `/api/bots/:bot/log`, the actions and `/api/chat` answer with. The page in
 * `packages/supervisor/dashboard/` reads exactly these shapes; add fields, never rename.
 */
import type { ClusterLeaseStatus } from '../cluster/token-lease.js';
import type { BotStatusReport } from '../status.js';

export interface DashboardSession {
  /** Send it back as the `x-botvisor-csrf` header on every POST; bound to this browser's HttpOnly cookie. */
  csrfToken: string;
  readOnly: boolean;
  /** Why actions are off, for the page to say; null when they are on. */
  readOnlyReason: string | null;
  sandbox: SandboxInfo | null;
}

export interface SandboxInfo {
  /** The bot the chat panel talks to (found by its token's hash), or null when no configured bot has that token. */
  bot: string | null;
  user: { id: number; first_name: string };
  chatId: number;
}

/** A CLI child of a bot; `parentPid` is another child of the same bot, or null when it hangs directly below the bot. */
export interface DashboardChild {
  pid: number;
  parentPid: number | null;
  command: string;
}

export type DashboardBot = Omit<BotStatusReport, 'children'> & { children: DashboardChild[] };

export interface DashboardLock {
  tokenHash: string;
  bot: string;
  owner: { pid: number; role: string; since: string } | null;
  /** Cluster mode: who is active for this token as this node sees it (the `status --json` lock's `cluster`); null on one machine. */
  cluster: ClusterLeaseStatus | null;
}

export interface DashboardEvent {
  kind: string;
  at: string;
  message: string;
  bot: string | null;
}

export interface DashboardState {
  generatedAt: string;
  readOnly: boolean;
  sandbox: boolean;
  supervisor: { pid: number; uptimeMs: number; startedAt: string; dataDir: string; httpUrl: string | null };
  bots: DashboardBot[];
  locks: DashboardLock[];
  /** Newest first. */
  events: DashboardEvent[];
}

export interface LogLine {
  ts: string | null;
  level: string | null;
  msg: string;
  /** The record's other fields as `key=value` pairs, the CLI's `logs` format (proc, pid, bot and the ones above left out), or null. */
  detail: string | null;
}

export interface LogTail {
  bot: string;
  /** False when the bot has not written a log yet. */
  exists: boolean;
  lines: LogLine[];
}

export interface ChatItem {
  /** Stable per message: `u<n>` for what the sim user sent, `b<message_id>` for a bot message, `e<seq>` for other entries. */
  id: string;
  from: 'user' | 'bot';
  kind: 'message' | 'edited' | 'deleted' | 'document' | 'action' | 'callback_answer';
  /** The Telegram message id this item is about (an edit or a deletion names the message it changes). */
  messageId: number | null;
  text: string;
  at: string;
  /** Inline keyboard button labels, row by row. */
  buttons: string[][];
  /** The same buttons with what a tap sends (`POST /api/chat/tap`); `data` null: not a callback button. */
  keys: ChatKey[][];
}

export interface ChatKey {
  text: string;
  data: string | null;
}

/** What `POST /api/chat` answers: the sent message, to show at once. */
export interface ChatSent {
  item: ChatItem;
  /** The `userCursor` that includes this message. */
  userCursor: number;
}

export interface ChatPage {
  items: ChatItem[];
  /** The bot side's cursor (the sim transcript's): pass it back as `after`. */
  cursor: number;
  /** How many messages the sim user has sent through the dashboard: pass it back as `userAfter`. */
  userCursor: number;
}
