/**
 * Classifies each Bot API method for the outbox. Kinds: methods that post into a chat (they queue
 * in that chat's lane, spending flood-control tokens), methods that only need ordering, methods
 * that must never wait behind messages; separately, which ones are safe to send twice.
 * Everything not listed goes straight out.
 */

export type MethodKind =
  /** Posts or edits a message: the chat's lane, global + chat (+ group) tokens. */
  | 'message'
  /** Changes a chat without posting (delete, pin, reaction): the chat's lane for order, no tokens. */
  | 'chat-order'
  /** "typing…": never queued behind messages; dropped while its chat is paused. */
  | 'chat-action'
  /** Answers a button tap: at once (the user's spinner is waiting), global token only. */
  | 'callback'
  /** getMe, getFile, setMyCommands…: straight to the transport. */
  | 'direct';

const CHAT_ORDER = new Set(['deleteMessage', 'deleteMessages', 'pinChatMessage', 'unpinChatMessage', 'unpinAllChatMessages', 'setMessageReaction']);

export function methodKind(method: string, params: Readonly<Record<string, unknown>> | undefined): MethodKind {
  if (method === 'sendChatAction') return 'chat-action';
  if (method === 'answerCallbackQuery') return 'callback';
  const hasChat = params?.chat_id !== undefined;
  if (!hasChat) return 'direct'; // inline-message edits, queries: no chat to order or limit
  if (/^(send|forward|copy|edit|stop)[A-Z]/.test(method)) return 'message';
  if (CHAT_ORDER.has(method)) return 'chat-order';
  return 'direct';
}

/**
 * Methods whose repetition leaves the chat as one call would: an edit to the same content, a
 * delete, a chat action, a callback answer, a reaction, a pin. Sending (send*, forward*, copy*)
 * is not: a second call is a second message.
 */
export function isIdempotent(method: string): boolean {
  return /^(edit|delete|pin|unpin|setMessageReaction$|sendChatAction$|answerCallbackQuery$|getMe$|get[A-Z])/.test(method);
}

/**
 * A refusal that only says "already done" — what an idempotent method answers when an earlier
 * attempt did arrive after all. On a repeated attempt it counts as success.
 */
export function isAlreadyDone(method: string, description: string): boolean {
  const d = description.toLowerCase();
  if (method.startsWith('edit')) return d.includes('message is not modified');
  if (method.startsWith('delete')) return d.includes('message to delete not found');
  if (method === 'answerCallbackQuery') return d.includes('query is too old');
  return false;
}
