/**
 * The pipeline inside a bot process: the path of one update from getUpdates to its reply.
 *
 *   PollLoop ──▶ Inbox.accept ──▶ Dispatcher ──▶ update pipeline ──▶ hand-over ──▶ settle
 *   getUpdates,   fsync'd before   per-chat order,  shape check,       bot.handleUpdate  the entry
 *   limit = the   the next poll    concurrency,     allow list,        with ctx.         leaves the
 *   spare room    confirms the     priority lane,   rate limit,        redelivered       inbox
 *   downstream    offset           barrier (ready)  error boundary     from the item
 *       ▲                               │
 *       └──── backpressure: spare ──────┘
 *
 * Leftovers of the previous run enter at the dispatcher, ahead of anything new, marked
 * `redelivered` where a handler may have seen them; poison updates never enter (the inbox
 * quarantines them; they are reported here). The dispatcher holds a bounded number of updates and
 * the poll loop asks for no more than fit, so nothing queues without bound: what is not fetched
 * stays with Telegram. This module only connects the stages; each stage's rules live in its file.
 */
import type { Logger } from '@botvisor/core';
import type { Bot, Update } from 'node-telegram-bot-api';
import { createAdmission } from './dispatch/admission.js';
import { Authorizer } from './dispatch/authorize.js';
import { DEFAULT_DISPATCH_CAPACITY, Dispatcher, type DispatchItem, type HandlingLedger } from './dispatch/dispatcher.js';
import { handOverTo } from './dispatch/hand-over.js';
import { IncomingRateLimit, type RateWindow } from './dispatch/incoming-rate-limit.js';
import { priorityMatcher } from './dispatch/priority.js';
import { createUpdatePipeline, POISON_UPDATE_TEXT } from './dispatch/update-pipeline.js';
import { chatIdOf, orderingKeyOf } from './dispatch/update-shape.js';
import type { UpdateInbox } from './inbox/update-inbox.js';
import { PollLoop, type PollLoopOptions } from './polling/poll-loop.js';

export interface PipelineOptions {
  inbox: UpdateInbox;
  /** The bot whose middleware chain handles updates; the pipeline's first middleware is installed on it at once. */
  bot: Bot;
  logger: Logger;
  /** User ids allowed to reach a handler; undefined = everyone. */
  allow?: readonly number[] | undefined;
  incomingLimits?: RateWindow[] | undefined;
  /** Chats handled at once. Default 32. */
  concurrency?: number | undefined;
  /** Updates held by the dispatcher before polling waits. Default DEFAULT_DISPATCH_CAPACITY. */
  capacity?: number | undefined;
  priorityCommands?: string[] | undefined;
  /** Every update's outcome, for metrics. */
  onHandled?: (outcome: 'ok' | 'error' | 'skipped', durationMs: number) => void;
  /** Where handlers' starts and settles are recorded; default the inbox (a reload's old process passes its hand-off ledger). */
  ledger?: HandlingLedger | undefined;
  /** A reload's new process: the gate that keeps the old process's running updates, and their chats, back (lifecycle/held-updates.ts). */
  hold?: { keep: (item: DispatchItem) => boolean; recovered: () => void } | undefined;
}

/** What polling needs besides the stages: the long-poll Api and the loop's reports. */
export type PollingOptions = Pick<PollLoopOptions, 'api' | 'timeoutSec' | 'onConflict' | 'onBadToken' | 'onApiError'>;

export class Pipeline {
  private readonly dispatcher: Dispatcher;
  private pollLoop: PollLoop | undefined;
  private quarantined: Array<{ update: Update; crashes: number }> = [];

  /** Composes the stages; nothing runs until `recover`, `poll` and `open`. */
  constructor(private readonly options: PipelineOptions) {
    const { bot, logger } = options;
    const notify = async (chatId: number, text: string): Promise<void> => void (await bot.api.sendMessage({ chat_id: chatId, text }));
    const handle = createUpdatePipeline({ logger, runHandlers: handOverTo(bot), notify, onHandled: (outcome, _update, ms) => options.onHandled?.(outcome, ms) });
    this.dispatcher = new Dispatcher({
      admit: createAdmission({
        logger,
        authorizer: new Authorizer(options.allow),
        rateLimit: new IncomingRateLimit(options.incomingLimits),
        notify,
        answerCallback: async (id, text) => void (await bot.api.answerCallbackQuery({ callback_query_id: id, text })),
        onRefused: () => options.onHandled?.('skipped', 0),
      }),
      concurrency: options.concurrency ?? 32,
      capacity: options.capacity ?? DEFAULT_DISPATCH_CAPACITY,
      handle,
      isPriority: priorityMatcher(options.priorityCommands),
      ledger: options.ledger ?? options.inbox,
    });
  }

  /** Every update on its way to the dispatcher: through the hold of a reload's new process, if any. */
  private intake(item: DispatchItem): void {
    if (this.options.hold?.keep(item) === true) return;
    this.dispatcher.enqueue(item);
  }

  /** Hands an update straight to the dispatcher (a held update, or one that waited behind it). */
  enqueue(item: DispatchItem): void {
    this.dispatcher.enqueue(item);
  }

  /** Updates held for the dispatcher outside it (a reload's held chats): they count against its capacity. */
  holdOutside(count: number): void {
    this.dispatcher.setHeldOutside(count);
  }

  /** Updates waiting for a handler (for pong). */
  get queued(): number {
    return this.dispatcher.queued;
  }

  /** Hands the previous run's unfinished updates to the dispatcher, first; keeps the poison ones for `reportQuarantined`. */
  async recover(): Promise<void> {
    const recovery = await this.options.inbox.recover(orderingKeyOf);
    const recovered = recovery.updates;
    if (recovered.length > 0) this.options.logger.warning('handing out updates left in the inbox by the previous run', { count: recovered.length, redelivered: recovered.filter((r) => r.redelivered).length });
    for (const item of recovered) this.intake(item);
    this.options.hold?.recovered();
    this.quarantined = recovery.quarantined;
  }

  /** Starts the poll loop into the inbox and the dispatcher; resolves when it ends, rejects if it fails. */
  poll(polling: PollingOptions): Promise<void> {
    const dispatcher = this.dispatcher;
    this.pollLoop = new PollLoop({
      ...polling,
      inbox: this.options.inbox,
      logger: this.options.logger,
      deliver: (updates) => {
        for (const item of updates) this.intake(item);
      },
      backpressure: dispatcher,
    });
    return this.pollLoop.start();
  }

  /** Logs each poison update at ERROR (its id, never its text) and tells its chat it was skipped. */
  reportQuarantined(): void {
    const { bot, logger } = this.options;
    for (const q of this.quarantined) {
      logger.error('skipped a poison update: the bot crashed or hung every time it handled it', { updateId: q.update.update_id, crashes: q.crashes });
      const chat = chatIdOf(q.update);
      if (chat !== undefined) void bot.api.sendMessage({ chat_id: chat, text: POISON_UPDATE_TEXT }).catch((err: unknown) => logger.warning('could not send a notice', { chatId: chat, err }));
    }
  }

  /** Opens the start-up barrier: handlers begin. */
  open(): void {
    this.dispatcher.open();
  }

  /** Aborts the pending getUpdates; resolves once the loop has exited. */
  async stopPolling(): Promise<void> {
    await this.pollLoop?.stop();
  }

  /** Starts no new handler from now on; running ones go on (a reload's hand-over). */
  stopDispatching(): void {
    void this.dispatcher.stop(0);
  }

  /** Starts nothing new; waits up to `graceMs` for running handlers. True if they all finished. */
  drain(graceMs: number): Promise<boolean> {
    return this.dispatcher.stop(graceMs);
  }
}
