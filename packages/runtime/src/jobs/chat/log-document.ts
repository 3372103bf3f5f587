/**
 * Sends a job's full log as a document, streamed from its temp file (memory stays flat). A log
 * larger than what a bot may upload (50 MB; 45 MB is used for headroom) is gzipped first — logs
 * compress well — and if even that is too big, the user is told so instead. The gzip copy is a
 * temp file beside the log and is removed here, on every path.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { type Api, type InlineKeyboardMarkup, InputFile } from 'node-telegram-bot-api';

export const MAX_UPLOAD_BYTES = 45 * 1024 * 1024;

export interface LogDocument {
  chatId: number | string;
  path: string;
  bytes: number;
  /** File name the user sees, e.g. `job-12.log`. */
  filename: string;
  caption?: string;
  replyMarkup?: InlineKeyboardMarkup;
}

function fileFrom(path: string, filename: string, contentType: string): InputFile {
  // A stream factory: each attempt re-opens the file, so nothing is held in memory.
  return new InputFile(() => Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>, { filename, contentType });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Sends the log; resolves false (after telling the user) when it is too large even gzipped. */
export async function sendLogDocument(api: Api, doc: LogDocument): Promise<boolean> {
  const caption = {
    ...(doc.caption !== undefined ? { caption: doc.caption.slice(0, 1024) } : {}),
    ...(doc.replyMarkup !== undefined ? { reply_markup: doc.replyMarkup } : {}),
  };
  if (doc.bytes <= MAX_UPLOAD_BYTES) {
    await api.sendDocument({ chat_id: doc.chatId, document: fileFrom(doc.path, doc.filename, 'text/plain'), ...caption });
    return true;
  }
  const gz = `${doc.path}.gz`;
  try {
    await pipeline(createReadStream(doc.path), createGzip({ level: 6 }), createWriteStream(gz, { mode: 0o600 }));
    const size = (await stat(gz)).size;
    if (size > MAX_UPLOAD_BYTES) {
      const text = `${doc.caption ?? ''}\nThe full log is ${formatBytes(doc.bytes)} (${formatBytes(size)} gzipped), too large to send here.`.trim();
      await api.sendMessage({ chat_id: doc.chatId, text, ...(doc.replyMarkup !== undefined ? { reply_markup: doc.replyMarkup } : {}) });
      return false;
    }
    await api.sendDocument({ chat_id: doc.chatId, document: fileFrom(gz, `${doc.filename}.gz`, 'application/gzip'), ...caption });
    return true;
  } finally {
    await rm(gz, { force: true });
  }
}
