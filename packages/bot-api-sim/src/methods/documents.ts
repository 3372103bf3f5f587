/**
 * sendDocument: a multipart upload, a file_id the bot got earlier, or an HTTP URL. The sim keeps
 * the file's name, type and size (never its bytes) and shows them in the transcript.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { UploadedFile } from '../body.js';
import type { BotState } from '../bot-state.js';
import { badRequest } from '../envelope.js';
import type { Document, Message } from '../telegram-types.js';
import type { TranscriptEntry } from '../transcript.js';
import type { MethodContext, MethodGroup } from './method.js';
import { admitMessage, postBotMessage, readCaption, readReplyTarget } from './outgoing.js';

/** Telegram file_ids are opaque base64url strings; documents start with "BQAC". */
function newFileId(): string {
  return `BQACAgIAAxkBAA${randomBytes(36).toString('base64url')}`;
}

function uniqueIdOf(seed: string): string {
  return `AgAD${createHash('sha256').update(seed).digest('base64url').slice(0, 12)}`;
}

function fromUpload(file: UploadedFile): Document {
  if (file.size === 0) throw badRequest('file must be non-empty');
  return { file_id: newFileId(), file_unique_id: uniqueIdOf(file.sha256), file_name: file.fileName, mime_type: file.mimeType, file_size: file.size };
}

/** A string `document`: `attach://<part>`, a file_id this bot knows, or an HTTP(S) URL (not fetched). */
function fromReference(bot: BotState, reference: string, files: ReadonlyMap<string, UploadedFile>): Document {
  if (reference.startsWith('attach://')) {
    const part = files.get(reference.slice('attach://'.length));
    if (part === undefined) throw badRequest('there is no document in the request');
    return fromUpload(part);
  }
  const known = bot.files.get(reference);
  if (known !== undefined) return known;
  if (/^https?:\/\/\S+$/i.test(reference)) {
    const name = decodeURIComponent(new URL(reference).pathname.split('/').pop() ?? '') || 'file';
    return { file_id: newFileId(), file_unique_id: uniqueIdOf(reference), file_name: name };
  }
  throw badRequest('wrong file identifier/HTTP URL specified');
}

function sendDocument(context: MethodContext): Message {
  const { bot, params } = context;
  const record = bot.chats.require(params.chatId());
  const upload = params.files.get('document');
  const reference = params.string('document');
  let document: Document;
  if (upload !== undefined) document = fromUpload(upload);
  else if (reference !== undefined && reference !== '') document = fromReference(bot, reference, params.files);
  else throw badRequest('there is no document in the request');
  const caption = readCaption(params);
  const replyMarkup = params.replyMarkup();
  const replyTo = readReplyTarget(params, record);
  admitMessage(context, record);

  bot.files.set(document.file_id, document);
  const message = postBotMessage(context, record, { document });
  if (caption !== undefined) {
    message.caption = caption.text;
    if (caption.entities.length > 0) message.caption_entities = caption.entities;
  }
  if (replyMarkup !== undefined) message.reply_markup = replyMarkup;
  if (replyTo !== undefined) message.reply_to_message = replyTo;
  const shown: NonNullable<TranscriptEntry['document']> = {};
  if (document.file_name !== undefined) shown.file_name = document.file_name;
  if (document.file_size !== undefined) shown.file_size = document.file_size;
  if (document.mime_type !== undefined) shown.mime_type = document.mime_type;
  record.transcript.append({
    kind: 'document',
    timestamp: context.sim.clock.now(),
    message_id: message.message_id,
    document: shown,
    ...(caption === undefined ? {} : { text: caption.text }),
    ...(replyMarkup === undefined ? {} : { reply_markup: replyMarkup }),
  });
  bot.stats.messageSent();
  return message;
}

export const documentMethods: MethodGroup = { sendDocument };
