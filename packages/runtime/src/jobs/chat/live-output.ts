/**
 * A job's output, live in its chat, without walls of text or a 429 cascade. One message is edited
 * in place as output arrives, at most once per interval (~1.5 s; bursts in between are coalesced
 * into one edit); when it nears Telegram's limit the output continues in a new message. If the
 * output grows past a threshold (64 KB), streaming stops — the message then shows a running tail —
 * and the whole log is sent as a document at the end. "typing…" shows while the job runs.
 *
 * Memory is bounded: text waiting to be shown never exceeds the threshold (past it, it is dropped:
 * the document will carry it). Every call goes through the routed Api, so the outbox paces it.
 */
import { StringDecoder } from 'node:string_decoder';
import { stripVTControlCharacters } from 'node:util';
import type { Logger } from '@botvisor/core';
import { type Api, type InlineKeyboardMarkup, type MessageEntity, TelegramApiError } from 'node-telegram-bot-api';
import { UncertainDeliveryError } from '../../outbox/send-policy.js';
import { formatBytes, sendLogDocument } from './log-document.js';
import { TypingIndicator } from './typing-indicator.js';

export interface LiveOutputOptions {
  api: Api;
  chatId: number | string;
  /** First line of the first message, e.g. `▶ job 12 · /logs nginx`. None: the output alone (a session's reply). */
  title?: string;
  /** `pre` (default): output as a code block. `plain`: as text (an agent's prose). */
  format?: 'pre' | 'plain';
  /** File name for the document, e.g. `job-12.log`. */
  filename: string;
  /** Minimum time between two updates of the live message. Default 1500 ms. */
  intervalMs?: number;
  /** Characters per message before output moves to a new one. Default 3900 (Telegram allows 4096). */
  messageChars?: number;
  /** Output beyond this many bytes is sent as a document at the end. Default 64 KiB. */
  documentThresholdBytes?: number;
  /** Characters of tail shown once streaming has stopped. Default 1500. */
  tailChars?: number;
  /** The job's current output tail (used once the threshold is passed). */
  tail?: () => string;
  logger?: Logger;
}

export interface LiveOutputEnd {
  /** One line about how the job ended. None: no closing message (a document still gets a caption). */
  summary?: string;
  /** The full log, when it still exists. */
  log?: { path: string; bytes: number; complete: boolean };
  /** A keyboard under the summary (e.g. Retry). */
  replyMarkup?: InlineKeyboardMarkup;
}

/** A message that may or may not exist (its send had no answer) or can no longer be edited. */
const GONE = -1;

interface LiveMessage {
  /** undefined until sent; GONE when it must not be sent or edited again. */
  id: number | undefined;
  prefix: string;
  body: string;
  /** The text last sent or edited, to skip edits that change nothing. */
  shown: string;
}

/** Output as a person can read it: no terminal escape codes, no control characters, `\r` as a line break. */
export function readableOutput(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return stripVTControlCharacters(text).replace(/\r\n?/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

/** The head of `text` that fits in `space`, cut after a line break when one is near. */
function headThatFits(text: string, space: number): string {
  if (text.length <= space) return text;
  const lineEnd = text.lastIndexOf('\n', space - 1);
  let cut = lineEnd >= space / 2 ? lineEnd + 1 : space;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--; // never split a surrogate pair
  return text.slice(0, cut);
}

export class LiveOutput {
  private readonly intervalMs: number;
  private readonly messageChars: number;
  private readonly threshold: number;
  private readonly tailChars: number;
  private readonly typing: TypingIndicator;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private pending = '';
  private bytes = 0;
  private overflowed = false;
  private current: LiveMessage;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lastFlushAt = 0;
  private ended = false;
  private placeholder = '(no output yet)';

  constructor(private readonly options: LiveOutputOptions) {
    this.intervalMs = options.intervalMs ?? 1500;
    this.messageChars = Math.min(options.messageChars ?? 3900, 4096);
    this.threshold = options.documentThresholdBytes ?? 64 * 1024;
    this.tailChars = options.tailChars ?? 1500;
    this.typing = new TypingIndicator(options.api, options.chatId);
    this.current = { id: undefined, prefix: options.title !== undefined ? `${options.title}\n` : '', body: '', shown: '' };
  }

  /** Shows "typing…" now and the live message shortly (a quick job shows its output at once instead). */
  start(): void {
    this.typing.start();
    this.schedule(Math.min(700, this.intervalMs));
  }

  /** A chunk of the job's output. Cheap: only decodes and appends; sending happens on the next tick. */
  write(chunk: Buffer, stream: 'stdout' | 'stderr' = 'stdout'): void {
    if (this.ended) return;
    this.bytes += chunk.length;
    if (this.overflowed) return; // the document will carry it
    if (this.bytes > this.threshold) {
      this.overflowed = true;
      this.pending = '';
    } else {
      this.pending += readableOutput(this.decoders[stream].write(chunk));
    }
    this.schedule(Math.max(0, this.lastFlushAt + this.intervalMs - Date.now()));
  }

  /** Shows the rest, sends the log as a document if the output was large, then the summary. */
  async finish(end: LiveOutputEnd): Promise<void> {
    this.ended = true;
    this.typing.stop();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    if (!this.overflowed) this.pending += readableOutput(this.decoders.stdout.end() + this.decoders.stderr.end());
    if (this.bytes === 0) this.placeholder = '(no output)';
    try {
      // Everything left, without waiting for the interval: the outbox paces the sends.
      for (let guard = 0; guard < 100; guard++) {
        await this.flush();
        if (this.overflowed || this.pending === '') break;
      }
    } catch (err) {
      this.options.logger?.warning('could not show the rest of a job\'s output', { chatId: this.options.chatId, err });
    }
    let summary = end.summary;
    const captionHead = end.summary !== undefined ? `${end.summary}\n` : '';
    if (this.overflowed && end.log !== undefined) {
      const incomplete = end.log.complete ? '' : ' (incomplete: the log could not be written in full)';
      try {
        await sendLogDocument(this.options.api, {
          chatId: this.options.chatId,
          path: end.log.path,
          bytes: end.log.bytes,
          filename: this.options.filename,
          caption: `${captionHead}Full output: ${formatBytes(end.log.bytes)}${incomplete}`,
          ...(end.replyMarkup !== undefined ? { replyMarkup: end.replyMarkup } : {}),
        });
        return;
      } catch (err) {
        if (err instanceof UncertainDeliveryError) return; // it may have arrived: never twice
        this.options.logger?.warning('could not send a job log as a document', { chatId: this.options.chatId, err });
        summary = `${captionHead}(The full log of ${formatBytes(end.log.bytes)} could not be sent.)`;
      }
    }
    if (summary === undefined) return;
    await this.options.api.sendMessage({ chat_id: this.options.chatId, text: summary, ...(end.replyMarkup !== undefined ? { reply_markup: end.replyMarkup } : {}) });
  }

  private schedule(inMs: number): void {
    // One update at a time: a flush in progress reschedules itself when it is done.
    if (this.timer !== undefined || this.flushing !== undefined || this.ended) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush()
        .catch((err: unknown) => this.options.logger?.warning('could not update the live output message', { chatId: this.options.chatId, err }))
        .finally(() => {
          this.flushing = undefined;
          if (!this.ended && (this.pending !== '' || this.overflowed)) this.schedule(Math.max(0, this.lastFlushAt + this.intervalMs - Date.now()));
        });
    }, inMs);
  }

  /** One update: at most one edit of the live message, plus new messages for output that does not fit. */
  private async flush(): Promise<void> {
    this.lastFlushAt = Date.now();
    if (this.overflowed) {
      if (this.current.id === GONE) this.current = { id: undefined, prefix: '', body: '', shown: '' };
      const tail = (this.options.tail?.() ?? '').slice(-this.tailChars);
      const title = this.options.title !== undefined ? `${this.options.title}\n` : '';
      this.current.prefix = `${title}… ${formatBytes(this.bytes)} of output so far; the whole log comes as a file at the end.\n`;
      this.current.body = readableOutput(tail);
      await this.show(this.current);
      return;
    }
    let backlog = this.pending;
    this.pending = '';
    const room = this.current.id === GONE ? 0 : this.messageChars - this.current.prefix.length - this.current.body.length;
    const head = headThatFits(backlog, Math.max(0, room));
    this.current.body += head;
    backlog = backlog.slice(head.length);
    await this.show(this.current);
    while (backlog !== '') {
      const next: LiveMessage = { id: undefined, prefix: '', body: headThatFits(backlog, this.messageChars), shown: '' };
      backlog = backlog.slice(next.body.length);
      if (next.body.trim() === '') continue; // Telegram refuses a blank message
      await this.show(next);
      this.current = next;
    }
  }

  /**
   * Sends the message the first time, edits it after; skips an edit that changes nothing. A send
   * without an answer is never repeated (it may have arrived: see send-policy.ts), and a message
   * that can no longer be edited (deleted by the user) is left alone: output goes on in a new one.
   */
  private async show(message: LiveMessage): Promise<void> {
    if (message.id === GONE) return;
    const body = message.body.trimEnd();
    const placeholder = message.prefix !== '' && body.trim() === '' ? this.placeholder : '';
    const text = `${message.prefix}${body}${placeholder}`;
    if (text === message.shown || text.trim() === '') return;
    const entities: MessageEntity[] = body.trim() !== '' && this.options.format !== 'plain' ? [{ type: 'pre', offset: message.prefix.length, length: body.length }] : [];
    try {
      if (message.id === undefined) {
        const sent = await this.options.api.sendMessage({ chat_id: this.options.chatId, text, ...(entities.length > 0 ? { entities } : {}) });
        message.id = sent.message_id;
      } else {
        await this.options.api.editMessageText({ chat_id: this.options.chatId, message_id: message.id, text, ...(entities.length > 0 ? { entities } : {}) });
      }
      message.shown = text;
    } catch (err) {
      if (!(err instanceof UncertainDeliveryError) && !(err instanceof TelegramApiError && err.errorCode === 400)) throw err;
      this.options.logger?.warning('live output: giving up on a message, going on in a new one', { chatId: this.options.chatId, err });
      message.id = GONE;
    }
  }
}
