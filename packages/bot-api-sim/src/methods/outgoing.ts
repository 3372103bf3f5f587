/**
 * What every method that posts into a chat shares: reading a formatted text or caption within
 * Telegram's limits, the reply target, flood control, and building the bot's Message.
 */
import type { ChatRecord } from '../chats.js';
import { unixSeconds } from '../clock.js';
import { badRequest, describe, tooManyRequests } from '../envelope.js';
import { type FormattedText, formatText } from '../formatting/index.js';
import type { Params } from '../params.js';
import type { Message, MessageEntity } from '../telegram-types.js';
import type { MethodContext } from './method.js';

export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;

/** A message text: required, formatted per `parse_mode`, non-empty and at most 4096 characters once parsed. */
export function readMessageText(params: Params): FormattedText {
  const source = params.string('text');
  if (source === undefined || source.trim() === '') throw badRequest(describe.textEmpty);
  const formatted = formatText(source, params.string('parse_mode'), explicitEntities(params, 'entities'));
  if (formatted.text === '') throw badRequest(describe.textEmpty);
  if (formatted.text.length > TEXT_LIMIT) throw badRequest(describe.textTooLong);
  return formatted;
}

/** An optional caption, formatted per `parse_mode`, at most 1024 characters once parsed. */
export function readCaption(params: Params): FormattedText | undefined {
  const source = params.string('caption');
  if (source === undefined || source.trim() === '') return undefined;
  const formatted = formatText(source, params.string('parse_mode'), explicitEntities(params, 'caption_entities'));
  if (formatted.text.length > CAPTION_LIMIT) throw badRequest(describe.captionTooLong);
  return formatted.text === '' ? undefined : formatted;
}

function explicitEntities(params: Params, field: string): MessageEntity[] | undefined {
  const entities = params.json(field, `can't parse entities JSON object`);
  if (entities === undefined) return undefined;
  if (!Array.isArray(entities)) throw badRequest(`can't parse entities JSON object`);
  return entities as unknown as MessageEntity[];
}

/** `reply_parameters.message_id` or the older `reply_to_message_id`; a missing target is an error unless allowed. */
export function readReplyTarget(params: Params, record: ChatRecord): Message | undefined {
  const replyParameters = params.json('reply_parameters', "can't parse reply parameters JSON object");
  let messageId = params.integer('reply_to_message_id');
  let allowWithout = params.boolean('allow_sending_without_reply') ?? false;
  if (replyParameters !== undefined && replyParameters !== null && typeof replyParameters === 'object' && !Array.isArray(replyParameters)) {
    if (typeof replyParameters.message_id === 'number') messageId = replyParameters.message_id;
    if (replyParameters.allow_sending_without_reply === true) allowWithout = true;
  }
  if (messageId === undefined) return undefined;
  const target = record.message(messageId);
  if (target === undefined && !allowWithout) throw badRequest(describe.replyNotFound);
  return target;
}

/** Flood control for one message into `record`'s chat: a 429 when over the limit. */
export function admitMessage(context: MethodContext, record: ChatRecord): void {
  const retryAfter = context.sim.flood.admit(context.bot.botId, record.chat);
  if (retryAfter !== undefined) throw tooManyRequests(retryAfter);
}

/** A new message from the bot in `record`'s chat, stored there. */
export function postBotMessage(context: MethodContext, record: ChatRecord, content: Partial<Message>): Message {
  const message: Message = {
    message_id: record.nextMessageId(),
    from: context.bot.me(),
    chat: record.chat,
    date: unixSeconds(context.sim.clock),
    ...content,
  };
  record.store(message);
  return message;
}

/** Deep equality for JSON values, ignoring key order (reply markups from different clients). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}
