/**
 * The user side of the simulated Telegram: a person writing a message, sending a command or
 * tapping an inline button, as a given user in a given chat. Each action makes the chat known to
 * the bot, stores the user's message and queues the update the bot would get, subject to
 * `allowed_updates` and group privacy mode as on Telegram.
 */
import type { BotState } from './bot-state.js';
import type { ChatRecord } from './chats.js';
import { unixSeconds } from './clock.js';
import { type ApiError, badRequest } from './envelope.js';
import type { Simulator } from './simulator.js';
import type { Chat, ChatType, JsonValue, Message, MessageEntity, User } from './telegram-types.js';

export interface UserSpec {
  id: number;
  first_name?: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export interface ChatSpec {
  /** A private chat's id is the user's id; group ids are negative. */
  id: number;
  type: ChatType;
  title?: string;
  username?: string;
}

interface Sender {
  /** Default: user 100001 "Test User" (@test_user). */
  user?: UserSpec;
  /** Default: the private chat with the user. */
  chat?: ChatSpec;
}

export interface UserMessageInput extends Sender {
  text: string;
  reply_to_message_id?: number;
}

export interface UserCommandInput extends Sender {
  /** Without the slash: `start`. */
  command: string;
  /** Text after the command: `/start <args>`. */
  args?: string;
  /** Address the bot as `/command@botname`, as clients do in groups. */
  mention?: boolean;
}

export interface CallbackTapInput extends Sender {
  /** The bot's message carrying the inline keyboard. */
  message_id: number;
  /** The button's callback_data. */
  data: string;
}

export interface InjectResult {
  /** The queued update's id; null when the bot would not get it (see `skipped`). */
  update_id: number | null;
  /** Why the bot gets no update: `allowed_updates` or `privacy_mode`. */
  skipped?: 'allowed_updates' | 'privacy_mode';
  chat_id: number;
  /** The user's message (messages and commands). */
  message_id?: number;
  callback_query_id?: string;
  /** The chat transcript's cursor at the time of the action: wait for the bot's answer after it. */
  cursor: number;
}

export const DEFAULT_USER: Readonly<Required<UserSpec>> = {
  id: 100001,
  first_name: 'Test',
  last_name: 'User',
  username: 'test_user',
  language_code: 'en',
};

const COMMAND_AT_START = /^\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,64})?/;

function invalid(detail: string): ApiError {
  return badRequest(`invalid user action: ${detail}`);
}

function userOf(spec: UserSpec | undefined): User {
  if (spec === undefined) {
    const { id, ...names } = DEFAULT_USER;
    return { id, is_bot: false, ...names };
  }
  if (!Number.isSafeInteger(spec.id) || spec.id <= 0) throw invalid('user.id must be a positive integer');
  const user: User = { id: spec.id, is_bot: false, first_name: spec.first_name ?? `User ${spec.id}` };
  if (spec.last_name !== undefined) user.last_name = spec.last_name;
  if (spec.username !== undefined) user.username = spec.username;
  if (spec.language_code !== undefined) user.language_code = spec.language_code;
  return user;
}

function chatOf(spec: ChatSpec | undefined, user: User): Chat {
  if (spec === undefined || spec.type === 'private') {
    if (spec !== undefined && spec.id !== user.id) throw invalid("a private chat's id is the user's id");
    const chat: Chat = { id: user.id, type: 'private', first_name: user.first_name };
    if (user.last_name !== undefined) chat.last_name = user.last_name;
    if (user.username !== undefined) chat.username = user.username;
    return chat;
  }
  if (spec.type !== 'group' && spec.type !== 'supergroup') throw invalid('chat.type must be private, group or supergroup');
  if (!Number.isSafeInteger(spec.id) || spec.id >= 0) throw invalid('group chat ids are negative integers');
  const chat: Chat = { id: spec.id, type: spec.type, title: spec.title ?? `Group ${-spec.id}` };
  if (spec.username !== undefined) chat.username = spec.username;
  return chat;
}

function hasCallbackButton(markup: Message['reply_markup'], data: string): boolean {
  const rows = markup?.inline_keyboard;
  if (!Array.isArray(rows)) return false;
  return rows.some((row: JsonValue) => Array.isArray(row) && row.some((button) => typeof button === 'object' && button !== null && !Array.isArray(button) && button.callback_data === data));
}

export class UserSide {
  private lastCallbackId = 0;

  constructor(private readonly sim: Simulator) {}

  sendMessage(token: string, input: UserMessageInput): InjectResult {
    if (typeof input.text !== 'string' || input.text.trim() === '') throw invalid('text must be a non-empty string');
    if (input.text.length > 4096) throw invalid('text is longer than 4096 characters');
    const bot = this.sim.bot(token);
    const user = userOf(input.user);
    const record = bot.chats.learn(chatOf(input.chat, user));
    const message: Message = { message_id: record.nextMessageId(), from: user, chat: record.chat, date: unixSeconds(this.sim.clock), text: input.text };
    const command = COMMAND_AT_START.exec(input.text);
    if (command !== null) message.entities = [{ type: 'bot_command', offset: 0, length: command[0].length } satisfies MessageEntity];
    if (input.reply_to_message_id !== undefined) {
      const replied = record.message(input.reply_to_message_id);
      if (replied === undefined) throw invalid(`message ${input.reply_to_message_id} is not in this chat`);
      message.reply_to_message = replied;
    }
    record.store(message);
    record.userLog.append({ text: input.text, message_id: message.message_id, timestamp: this.sim.clock.now(), after_seq: record.transcript.cursor });
    const result: InjectResult = { update_id: null, chat_id: record.chat.id, message_id: message.message_id, cursor: record.transcript.cursor };
    if (!this.botSeesInGroup(bot, message)) return { ...result, skipped: 'privacy_mode' };
    const updateId = bot.updates.push('message', { message });
    return updateId === undefined ? { ...result, skipped: 'allowed_updates' } : { ...result, update_id: updateId };
  }

  sendCommand(token: string, input: UserCommandInput): InjectResult {
    const name = String(input.command ?? '').replace(/^\//, '');
    if (!/^[A-Za-z0-9_]{1,32}$/.test(name)) throw invalid('command must be 1-32 letters, digits or underscores');
    const bot = this.sim.bot(token);
    const mention = input.mention === true ? `@${bot.profile.username}` : '';
    const args = input.args !== undefined && input.args !== '' ? ` ${input.args}` : '';
    return this.sendMessage(token, { ...input, text: `/${name}${mention}${args}` });
  }

  tapButton(token: string, input: CallbackTapInput): InjectResult {
    const bot = this.sim.bot(token);
    const user = userOf(input.user);
    const record: ChatRecord = bot.chats.require(chatOf(input.chat, user).id);
    const message = record.message(input.message_id);
    if (message === undefined || message.from.id !== bot.botId) throw invalid(`no bot message ${input.message_id} in this chat`);
    if (!hasCallbackButton(message.reply_markup, input.data)) throw invalid(`message ${input.message_id} has no inline button with callback_data ${JSON.stringify(input.data)}`);
    const callbackQueryId = `${bot.botId}${String(++this.lastCallbackId).padStart(9, '0')}`;
    bot.callbackQueries.set(callbackQueryId, { chatId: record.chat.id, messageId: message.message_id, answered: false });
    const updateId = bot.updates.push('callback_query', {
      callback_query: { id: callbackQueryId, from: user, message, chat_instance: chatInstance(record.chat.id), data: input.data },
    });
    const result: InjectResult = { update_id: updateId ?? null, chat_id: record.chat.id, callback_query_id: callbackQueryId, cursor: record.transcript.cursor };
    return updateId === undefined ? { ...result, skipped: 'allowed_updates' } : result;
  }

  /** Privacy mode: in groups the bot sees commands, replies to its own messages and mentions of it. */
  private botSeesInGroup(bot: BotState, message: Message): boolean {
    if (message.chat.type === 'private' || !bot.profile.privacyMode) return true;
    const text = message.text ?? '';
    if (text.startsWith('/')) return true;
    if (message.reply_to_message?.from.id === bot.botId) return true;
    return text.toLowerCase().includes(`@${bot.profile.username.toLowerCase()}`);
  }
}

/** Telegram's chat_instance is an opaque string, stable per chat; this one is derived from the chat id. */
function chatInstance(chatId: number): string {
  return String(BigInt.asUintN(63, BigInt(chatId) * 2654435761n));
}
