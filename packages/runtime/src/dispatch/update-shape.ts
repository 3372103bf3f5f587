/**
 * Which updates the pipeline can handle, and which chat each belongs to. An update from the wire
 * is untrusted JSON: one without an id, of an unknown type, or a message without a chat is
 * refused here (and skipped with a WARNING by the pipeline) rather than crashing a handler; one
 * without an id is refused even earlier, by the poll loop, before the inbox computes an offset.
 */
import type { Update } from 'node-telegram-bot-api';

const MESSAGE_LIKE = ['message', 'edited_message', 'channel_post', 'edited_channel_post', 'business_message', 'edited_business_message'] as const;
const OTHER_KNOWN = [
  'callback_query', 'inline_query', 'chosen_inline_result', 'shipping_query', 'pre_checkout_query', 'purchased_paid_media',
  'poll', 'poll_answer', 'my_chat_member', 'chat_member', 'chat_join_request', 'chat_boost', 'removed_chat_boost',
  'message_reaction', 'message_reaction_count', 'business_connection', 'deleted_business_messages',
] as const;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Whether the update has an id the offset can be computed from: a non-negative safe integer.
 * Checked before the inbox, since one without (a proxy's or a buggy server's) would make the
 * offset NaN and every later getUpdates a 400.
 */
export function hasUpdateId(update: unknown): update is Update {
  return isObject(update) && isUpdateId(update.update_id);
}

function isUpdateId(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Undefined if the update is usable, else why not (never quoting its text). */
export function malformedReason(update: unknown): string | undefined {
  if (!isObject(update)) return 'not an object';
  if (!isUpdateId(update.update_id)) return 'no numeric update_id';
  const kinds = Object.keys(update).filter((k) => k !== 'update_id');
  if (kinds.length !== 1) return kinds.length === 0 ? 'no payload' : `more than one payload (${kinds.join(', ')})`;
  const kind = kinds[0] as string;
  const payload = update[kind];
  if ((MESSAGE_LIKE as readonly string[]).includes(kind)) {
    if (!isObject(payload)) return `${kind} is not an object`;
    if (!isObject(payload.chat) || typeof payload.chat.id !== 'number') return `${kind} has no chat`;
    if (typeof payload.message_id !== 'number') return `${kind} has no message_id`;
    return undefined;
  }
  if (kind === 'callback_query') {
    if (!isObject(payload) || typeof payload.id !== 'string' || !isObject(payload.from)) return 'callback_query without id or from';
    return undefined;
  }
  if (!(OTHER_KNOWN as readonly string[]).includes(kind)) return `unknown update type "${kind}"`;
  return isObject(payload) ? undefined : `${kind} is not an object`;
}

/** The update's type, e.g. `message`. */
export function updateKind(update: Update): string {
  return Object.keys(update).find((k) => k !== 'update_id') ?? 'unknown';
}

function payloadOf(update: Update): Json | undefined {
  const v = (update as unknown as Json)[updateKind(update)];
  return isObject(v) ? v : undefined;
}

/** The chat the update belongs to, if any. */
export function chatIdOf(update: Update): number | undefined {
  const p = payloadOf(update);
  if (p === undefined) return undefined;
  if (isObject(p.chat) && typeof p.chat.id === 'number') return p.chat.id;
  if (isObject(p.message) && isObject(p.message.chat) && typeof p.message.chat.id === 'number') return p.message.chat.id;
  return undefined;
}

/** The user who sent it, if any. */
export function senderIdOf(update: Update): number | undefined {
  const p = payloadOf(update);
  if (p === undefined) return undefined;
  if (isObject(p.from) && typeof p.from.id === 'number') return p.from.id;
  if (isObject(p.user) && typeof p.user.id === 'number') return p.user.id;
  return undefined;
}

/** The text of a message-like update, or the data of a callback query. */
export function textOf(update: Update): string | undefined {
  const p = payloadOf(update);
  if (p === undefined) return undefined;
  if (typeof p.text === 'string') return p.text;
  if (typeof p.data === 'string') return p.data;
  return undefined;
}

/** The ordering key: updates with the same key run one after another. */
export function orderingKeyOf(update: Update): string {
  const chat = chatIdOf(update);
  if (chat !== undefined) return `chat:${chat}`;
  const sender = senderIdOf(update);
  return sender !== undefined ? `user:${sender}` : 'global';
}
