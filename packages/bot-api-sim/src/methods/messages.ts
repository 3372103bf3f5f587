/**
 * Text messages: sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage. Each one
 * validates as Telegram does (empty or too long text, parse errors, unknown chat or message,
 * "message is not modified") and records what the user sees in the chat's transcript.
 */
import type { ChatRecord } from '../chats.js';
import { ApiError, badRequest, describe } from '../envelope.js';
import type { Message } from '../telegram-types.js';
import type { MethodContext, MethodGroup } from './method.js';
import { admitMessage, postBotMessage, readMessageText, readReplyTarget, sameJson } from './outgoing.js';

function sendMessage(context: MethodContext): Message {
  const { bot, params } = context;
  const record = bot.chats.require(params.chatId());
  const formatted = readMessageText(params);
  const replyMarkup = params.replyMarkup();
  const replyTo = readReplyTarget(params, record);
  admitMessage(context, record);
  const message = postBotMessage(context, record, { text: formatted.text });
  if (formatted.entities.length > 0) message.entities = formatted.entities;
  if (replyMarkup !== undefined) message.reply_markup = replyMarkup;
  if (replyTo !== undefined) message.reply_to_message = replyTo;
  const silent = params.boolean('disable_notification') === true;
  record.transcript.append({
    kind: 'sent',
    timestamp: context.sim.clock.now(),
    message_id: message.message_id,
    text: message.text,
    ...(message.entities === undefined ? {} : { entities: message.entities }),
    ...(replyMarkup === undefined ? {} : { reply_markup: replyMarkup }),
    ...(silent ? { disable_notification: true } : {}),
  });
  bot.stats.messageSent();
  return message;
}

/** The bot's own message that an edit targets: chat_id + message_id (inline messages are not simulated). */
function messageToEdit(context: MethodContext): { message: Message; record: ChatRecord } {
  const { bot, params } = context;
  if (params.has('inline_message_id')) throw badRequest('MESSAGE_ID_INVALID');
  const record = bot.chats.require(params.chatId());
  const messageId = params.integer('message_id');
  if (messageId === undefined) throw badRequest('message identifier is not specified');
  const message = record.message(messageId);
  if (message === undefined) throw badRequest(describe.editNotFound);
  if (message.from.id !== bot.botId || message.text === undefined) throw badRequest(describe.cantBeEdited);
  return { message, record };
}

function editMessageText(context: MethodContext): Message {
  const { params } = context;
  const { message, record } = messageToEdit(context);
  const formatted = readMessageText(params);
  // As on Telegram, an edit without reply_markup removes the message's inline keyboard.
  const replyMarkup = params.replyMarkup();
  const unchanged = formatted.text === message.text && sameJson(formatted.entities, message.entities ?? []) && sameJson(replyMarkup, message.reply_markup);
  if (unchanged) throw new ApiError(400, `Bad Request: ${describe.notModified}`);
  admitMessage(context, record);
  message.text = formatted.text;
  if (formatted.entities.length > 0) message.entities = formatted.entities;
  else delete message.entities;
  return recordEdit(context, record, message, replyMarkup, { textEdited: true });
}

function editMessageReplyMarkup(context: MethodContext): Message {
  const { message, record } = messageToEdit(context);
  const replyMarkup = context.params.replyMarkup();
  if (sameJson(replyMarkup, message.reply_markup)) throw new ApiError(400, `Bad Request: ${describe.notModified}`);
  return recordEdit(context, record, message, replyMarkup, { textEdited: false });
}

/** The common end of every edit: the new markup (or none), the edit date, and an `edited` transcript entry. */
function recordEdit(context: MethodContext, record: Parameters<typeof admitMessage>[1], message: Message, replyMarkup: Message['reply_markup'] | undefined, o: { textEdited: boolean }): Message {
  if (replyMarkup !== undefined) message.reply_markup = replyMarkup;
  else delete message.reply_markup;
  message.edit_date = Math.floor(context.sim.clock.now() / 1000);
  record.transcript.append({
    kind: 'edited',
    timestamp: context.sim.clock.now(),
    message_id: message.message_id,
    ...(message.text === undefined ? {} : { text: message.text }),
    ...(!o.textEdited || message.entities === undefined ? {} : { entities: message.entities }),
    ...(replyMarkup === undefined ? {} : { reply_markup: replyMarkup }),
  });
  return message;
}

function deleteMessage(context: MethodContext): true {
  const { bot, params } = context;
  const record = bot.chats.require(params.chatId());
  const messageId = params.integer('message_id');
  if (messageId === undefined) throw badRequest('message identifier is not specified');
  if (!record.remove(messageId)) throw badRequest(describe.deleteNotFound);
  record.transcript.append({ kind: 'deleted', timestamp: context.sim.clock.now(), message_id: messageId });
  return true;
}

export const messageMethods: MethodGroup = { sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage };
