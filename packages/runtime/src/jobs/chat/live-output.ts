/**
 * A job's output, live in its chat, without walls of text or a 429 cascade. One message is edited
 * in place as output arrives, at most once per interval (~1.5 s; bursts in between are coalesced
 * into one edit); when it nears Telegram's limit the output continues in a new message. If the
 * output grows past a threshold (64 KB), streaming stops — the message then shows a running tail —
 * and the whole log is sent as a document at the end. "typing…" shows while the job runs.
 *
 * Memory is bounded: text waiting to be shown never exceeds the threshold (past it, it is dropped:
 * the document will carry it). Every call goes through the routed Api, so the outbox paces it.
 *
 * A job's output is its one message (its "card"): the live message can adopt a message that
 * already exists (the job's "queued" card), carries a keyboard while it runs (Stop), and with
 * `inPlace` the end edits the summary into its first line instead of sending another message.
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
  /** A message to continue instead of sending a new first one (a job's queued card); undefined: send one. */
  adopt?: Promise<number | undefined>;
  /** A keyboard under the first message while the output is live (a job's Stop button). */
  keyboard?: InlineKeyboardMarkup;
  /** Told the first message's id once it exists (a job records its card). */
  onFirstMessage?: (messageId: number) => void;
}

export interface LiveOutputEnd {
  /** One line about how the job ended. None: no closing message (a document still gets a caption). */
  summary?: string;
  /** The full log, when it still exists. */
  log?: { path: string; bytes: number; complete: boolean };
  /** A keyboard under the summary (e.g. Retry). */
  replyMarkup?: InlineKeyboardMarkup;
  /** The summary becomes the first line of the first message (edited), not a message of its own. */
  inPlace?: boolean;
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
  /** The first message: where the title (and, in place, the summary) and the keyboard live. */
  private readonly first: LiveMessage;
  private keyboard: InlineKeyboardMarkup | undefined;
  private title: string | undefined;
  /** The existing message the first one continues, until it has been looked at. */
  private adopt: Promise<number | undefined> | undefined;
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
    this.first = this.current;
    this.keyboard = options.keyboard;
    this.title = options.title;
    this.adopt = options.adopt;
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
    const inPlace = end.inPlace === true && end.summary !== undefined && this.first.id !== GONE;
    const takeTitle = (): void => {
      this.title = end.summary;
      const tailOnly = this.overflowed && this.first === this.current;
      this.first.prefix = `${end.summary}\n${tailOnly ? `… ${formatBytes(this.bytes)} of output; the whole log is in the file below.\n` : ''}`;
      this.keyboard = end.replyMarkup;
    };
    // A quick job whose message was never shown and whose output fits: its one send carries the
    // summary. Otherwise the summary replaces the title once the rest of the output is shown.
    const fitsAtOnce = this.first === this.current && this.first.id === undefined && !this.overflowed && `${end.summary}\n${this.first.body}${this.pending}`.length <= this.messageChars;
    if (inPlace && fitsAtOnce) takeTitle();
    try {
      // Everything left, without waiting for the interval: the outbox paces the sends.
      for (let guard = 0; guard < 100; guard++) {
        await this.flush();
        if (this.overflowed || this.pending === '') break;
      }
    } catch (err) {
      this.options.logger?.warning('could not show the rest of a job\'s output', { chatId: this.options.chatId, err });
    }
    let note: string | undefined;
    let documentSent = false;
    if (this.overflowed && end.log !== undefined) {
      const incomplete = end.log.complete ? '' : ' (incomplete: the log could not be written in full)';
      // Without a card to edit, the document's caption carries the summary and the keyboard.
      const withSummary = !inPlace && end.summary !== undefined;
      try {
        await sendLogDocument(this.options.api, {
          chatId: this.options.chatId,
          path: end.log.path,
          bytes: end.log.bytes,
          filename: this.options.filename,
          caption: `${withSummary ? `${end.summary}\n` : ''}Full output: ${formatBytes(end.log.bytes)}${incomplete}`,
          ...(withSummary && end.replyMarkup !== undefined ? { replyMarkup: end.replyMarkup } : {}),
        });
        documentSent = true;
      } catch (err) {
        if (err instanceof UncertainDeliveryError) documentSent = true; // it may have arrived: never twice
        else {
          this.options.logger?.warning('could not send a job log as a document', { chatId: this.options.chatId, err });
          note = `(The full log of ${formatBytes(end.log.bytes)} could not be sent.)`;
        }
      }
    }
    let summary = end.summary;
    if (inPlace) {
      // After the rest of the output and the document: the card's first line says how it ended.
      if (!fitsAtOnce) takeTitle();
      await this.settleFirst();
      if (this.first.id !== GONE) summary = undefined;
    } else if (documentSent) return;
    const text = [summary, note].filter((t) => t !== undefined).join('\n');
    if (text === '') return;
    await this.options.api.sendMessage({ chat_id: this.options.chatId, text, ...(summary !== undefined && end.replyMarkup !== undefined ? { reply_markup: end.replyMarkup } : {}) });
  }

  /** The first message with its final first line and keyboard; if it cannot be edited, the summary goes in a new message. */
  private async settleFirst(): Promise<void> {
    try {
      await this.show(this.first);
    } catch (err) {
      this.options.logger?.warning('could not show how a job ended in its message', { chatId: this.options.chatId, err });
      this.first.id = GONE;
    }
    if (this.first.id === undefined) this.first.id = GONE; // never shown: say it in a message of its own
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
      const title = this.title !== undefined ? `${this.title}\n` : '';
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
    if (message === this.first && message.id === undefined && this.adopt !== undefined) {
      const adopted = await this.adopt;
      this.adopt = undefined;
      message.id ??= adopted;
    }
    if (message.id === GONE) return;
    const room = this.messageChars - message.prefix.length;
    // A summary longer than the title it replaced: the output keeps its tail.
    const fitted = message.body.length > room ? `…${message.body.slice(message.body.length - Math.max(0, room - 1))}` : message.body;
    const body = fitted.trimEnd();
    const placeholder = message.prefix !== '' && body.trim() === '' ? this.placeholder : '';
    const text = `${message.prefix}${body}${placeholder}`;
    const keyboard = message === this.first ? this.keyboard : undefined;
    const shown = `${text}\u0000${JSON.stringify(keyboard ?? null)}`;
    if (shown === message.shown || text.trim() === '') return;
    const entities: MessageEntity[] = body.trim() !== '' && this.options.format !== 'plain' ? [{ type: 'pre', offset: message.prefix.length, length: body.length }] : [];
    const extra = { ...(entities.length > 0 ? { entities } : {}), ...(keyboard !== undefined ? { reply_markup: keyboard } : {}) };
    try {
      if (message.id === undefined) {
        const sent = await this.options.api.sendMessage({ chat_id: this.options.chatId, text, ...extra });
        message.id = sent.message_id;
        if (message === this.first) this.options.onFirstMessage?.(sent.message_id);
      } else {
        await this.options.api.editMessageText({ chat_id: this.options.chatId, message_id: message.id, text, ...extra });
      }
      message.shown = shown;
    } catch (err) {
      if (!(err instanceof UncertainDeliveryError) && !(err instanceof TelegramApiError && err.errorCode === 400)) throw err;
      this.options.logger?.warning('live output: giving up on a message, going on in a new one', { chatId: this.options.chatId, err });
      message.id = GONE;
    }
  }
}
