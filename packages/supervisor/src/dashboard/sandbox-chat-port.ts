/**
 * What the dashboard's chat panel needs from a sandbox, as types only: who the panel speaks as,
 * and three calls, `send`, `tap` and `page`. The dashboard knows nothing of the simulator behind it; the
 * CLI's sandbox builds the implementation (from the simulator's client) and hands it to
 * `Supervisor.start({ sandbox })`, so the bot's token stays on the sandbox's side.
 */
import type { ChatPage, ChatSent } from './dashboard-types.js';

export interface SandboxChatPort {
  /** The sim user the panel speaks as. */
  readonly user: { id: number; first_name: string };
  readonly chatId: number;
  /** core's `tokenHash` of the bot's token: how the dashboard names the bot the panel talks to. */
  readonly botTokenHash: string;
  /**
   * Says `text` (non-empty, at most 4096 characters: the dashboard checks) as the user; a leading
   * `/command` is a command. Rejects, with a message a person can read, when the sandbox does not
   * take it.
   */
  send(text: string): Promise<ChatSent>;
  /** Taps the inline button with callback `data` under the bot's message `messageId`, as the user; the bot's answer shows in the chat. */
  tap(messageId: number, data: string): Promise<void>;
  /**
   * What happened after cursors `after` (the bot's side) and `userAfter` (messages sent through
   * `send`), oldest first. With `waitMs` > 0 and nothing new, holds until there is something new,
   * `waitMs` passes or `signal` aborts (the browser left).
   */
  page(after: number, userAfter: number, waitMs: number, signal: AbortSignal): Promise<ChatPage>;
}
