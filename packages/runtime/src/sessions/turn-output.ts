/**
 * One turn's reply in the chat: one message edited as the reply grows, continued in a new one
 * past Telegram's limit, and — for a very long reply — the full text as a document at the end.
 * The showing is the jobs' live output (jobs/chat/live-output.ts: paced edits through the outbox,
 * "typing…" while the turn runs); this adds the turn's own text log (a temp file, so a reply of
 * any size costs no memory) and the running tail shown once the reply is too long to stream.
 */
import type { Logger } from '@botvisor/core';
import type { Api } from 'node-telegram-bot-api';
import { LiveOutput, type LiveOutputOptions } from '../jobs/chat/live-output.js';
import { TypingIndicator } from '../jobs/chat/typing-indicator.js';
import { OutputSpool } from '../jobs/io/output-spool.js';
import { TailBuffer } from '../jobs/io/tail-buffer.js';

export interface TurnOutputOptions {
  api: Api;
  chatId: number;
  /** Names the turn's log file and document, e.g. `agent-12-3`. */
  id: string;
  /** `plain` for an agent's prose, `pre` for a REPL's output. */
  format: 'plain' | 'pre';
  spoolDir: string;
  logger: Logger;
  live?: Pick<LiveOutputOptions, 'intervalMs' | 'messageChars' | 'documentThresholdBytes'>;
}

const TAIL_BYTES = 4096;

export class TurnOutput {
  private readonly live: LiveOutput;
  private readonly tail = new TailBuffer(TAIL_BYTES);
  private readonly spool: OutputSpool | undefined;
  private readonly typing: TypingIndicator;
  private finished: Promise<void> | undefined;

  constructor(private readonly options: TurnOutputOptions) {
    this.spool = this.openSpool();
    this.typing = new TypingIndicator(options.api, options.chatId);
    this.live = new LiveOutput({
      api: options.api,
      chatId: options.chatId,
      filename: `${options.id}.txt`,
      format: options.format,
      tail: () => this.tail.text(),
      logger: options.logger,
      ...options.live,
    });
  }

  /** Bytes of reply so far. */
  get bytes(): number {
    return this.tail.total;
  }

  /**
   * "typing…" now; the message comes with the first text, at once (the live output's own start
   * would hold a job's first output back for a moment; an agent's first words should not wait).
   */
  start(): void {
    this.typing.start();
  }

  write(text: string): void {
    if (text === '' || this.finished !== undefined) return;
    const chunk = Buffer.from(text, 'utf8');
    this.tail.write(chunk);
    this.spool?.write(chunk);
    this.live.write(chunk);
  }

  /** Shows the rest (and the document for a long reply), then `note` if any; removes the log. Once. */
  finish(note?: string): Promise<void> {
    this.finished ??= this.close(note);
    return this.finished;
  }

  private async close(note: string | undefined): Promise<void> {
    this.typing.stop();
    try {
      await this.spool?.end();
      const log = this.spool !== undefined ? { path: this.spool.path, bytes: this.spool.bytes, complete: this.spool.error === undefined } : undefined;
      const summary = note ?? (this.tail.total === 0 ? '(no reply)' : undefined);
      await this.live.finish({ ...(summary !== undefined ? { summary } : {}), ...(log !== undefined ? { log } : {}) });
    } catch (err) {
      this.options.logger.warning('could not show the end of a session turn', { chatId: this.options.chatId, err });
    } finally {
      await this.spool?.remove().catch((err: unknown) => this.options.logger.error('cannot remove a session turn log', { file: this.spool?.path, err }));
    }
  }

  private openSpool(): OutputSpool | undefined {
    try {
      return new OutputSpool(this.options.spoolDir, `session-${this.options.id}`);
    } catch (err) {
      this.options.logger.warning('cannot create a session turn log; a very long reply will not come as a file', { err });
      return undefined;
    }
  }
}
