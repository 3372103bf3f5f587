/**
 * The small signals a bot gives a user: sendChatAction ("typing…") and answerCallbackQuery (the
 * toast or alert after a button tap). Both show up in the chat's transcript.
 */
import { badRequest, describe } from '../envelope.js';
import type { MethodContext, MethodGroup } from './method.js';

const CHAT_ACTIONS: ReadonlySet<string> = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

function sendChatAction(context: MethodContext): true {
  const { bot, params } = context;
  const record = bot.chats.require(params.chatId());
  const action = params.string('action') ?? '';
  if (!CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
  record.transcript.append({ kind: 'chat_action', timestamp: context.sim.clock.now(), action });
  return true;
}

function answerCallbackQuery(context: MethodContext): true {
  const { bot, params } = context;
  const id = params.string('callback_query_id') ?? '';
  const query = bot.callbackQueries.get(id);
  // An unknown id and a second answer get the same description from Telegram.
  if (query === undefined || query.answered) throw badRequest(describe.queryTooOld);
  query.answered = true;
  const text = params.string('text');
  const showAlert = params.boolean('show_alert');
  bot.chats.find(query.chatId)?.transcript.append({
    kind: 'callback_answer',
    timestamp: context.sim.clock.now(),
    message_id: query.messageId,
    callback_query_id: id,
    ...(text === undefined ? {} : { text }),
    ...(showAlert === undefined ? {} : { show_alert: showAlert }),
  });
  return true;
}

export const interactionMethods: MethodGroup = { sendChatAction, answerCallbackQuery };
