/**
 * The chats one bot knows and the messages in them. A chat becomes known when a user writes in it
 * through the control API, as a real bot only learns a chat once someone talks to it; sending to
 * any other chat is `chat not found`. Message ids count up per chat and are shared by the user's
 * and the bot's messages, as in a real chat.
 */
import { badRequest, describe } from './envelope.js';
import type { Chat, Message } from './telegram-types.js';
import { Transcript } from './transcript.js';
import { UserLog } from './user-log.js';

export class ChatRecord {
  readonly transcript = new Transcript();
  /** What the user wrote here through the control API. */
  readonly userLog = new UserLog();
  private readonly messages = new Map<number, Message>();
  private lastMessageId = 0;

  constructor(public chat: Chat) {}

  nextMessageId(): number {
    return ++this.lastMessageId;
  }

  store(message: Message): void {
    this.messages.set(message.message_id, message);
  }

  message(messageId: number): Message | undefined {
    return this.messages.get(messageId);
  }

  remove(messageId: number): boolean {
    return this.messages.delete(messageId);
  }
}

export class ChatBook {
  private readonly chats = new Map<number, ChatRecord>();

  /** Learns a chat, or refreshes what is known about it (a title or name may change). */
  learn(chat: Chat): ChatRecord {
    const known = this.chats.get(chat.id);
    if (known !== undefined) {
      known.chat = { ...known.chat, ...chat };
      return known;
    }
    const record = new ChatRecord(chat);
    this.chats.set(chat.id, record);
    return record;
  }

  /** By numeric id or by `@username` (public groups and users with a username). */
  find(chatId: number | string): ChatRecord | undefined {
    if (typeof chatId === 'number') return this.chats.get(chatId);
    const username = chatId.replace(/^@/, '').toLowerCase();
    for (const record of this.chats.values()) {
      if (record.chat.username?.toLowerCase() === username) return record;
    }
    return undefined;
  }

  /** Like `find`, but a 400 `chat not found` when the bot does not know the chat. */
  require(chatId: number | string): ChatRecord {
    const record = this.find(chatId);
    if (record === undefined) throw badRequest(describe.chatNotFound);
    return record;
  }

  list(): ChatRecord[] {
    return [...this.chats.values()];
  }

  clear(): void {
    this.chats.clear();
  }
}
