/**
 * The outbox: every Bot API call that posts into a chat waits its turn in that chat's lane (every
 * call the bot makes passes here, see routed-api.ts). One lane per chat, worked one call
 * at a time, so order per chat is kept even across 429s; lanes of different chats run side by
 * side. Before each message the rate gate waits for Telegram's limits (30/s, 1/s per chat,
 * 20/min per group); a 429 pauses the scope it concerns for `retry_after` and the same call is
 * sent again from the same place in the lane. Failures without an answer follow the
 * duplicate-send policy in send-policy.ts. A text over 4096 characters is split (split-text.ts,
 * split-markup.ts) and its parts go out back to back in the lane.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@botvisor/core';
import { type MessageEntity, TelegramApiError } from 'node-telegram-bot-api';
import { describeApiError } from '../telegram/describe-api-error.js';
import { isAlreadyDone, isIdempotent, type MethodKind, methodKind } from './method-kinds.js';
import { RateGate, type RateLimits } from './rate-gate.js';
import { ScopePauses } from './scope-pauses.js';
import { backoffMs, classifyFailure, maySendAgain, UncertainDeliveryError } from './send-policy.js';
import { splitMarkup } from './split-markup.js';
import { splitText, TELEGRAM_TEXT_LIMIT } from './split-text.js';

export type Params = Record<string, unknown>;
/** One raw Bot API call, without retries of its own (the outbox decides about retries). */
export type Transport = (method: string, params: Params | undefined, signal?: AbortSignal) => Promise<unknown>;

export interface OutboxOptions {
  limits?: RateLimits;
  /** Calls waiting in one chat before new ones are refused. Default 1000. */
  maxQueuePerChat?: number;
  logger?: Logger;
  now?: () => number;
  /** Every error answer of the Bot API, by code (for metrics). */
  onApiError?: (code: number) => void;
}

export interface OutboxStats {
  /** Calls answered with success. */
  sent: number;
  /** 429 answers received. */
  rateLimited: number;
  /** Calls sent again after a network failure. */
  resent: number;
  /** Sends that failed without an answer and were not repeated. */
  uncertain: number;
  /** Chat actions skipped because the chat was busy or paused. */
  skippedChatActions: number;
  /** Calls waiting in lanes now. */
  queued: number;
}

export class OutboxFullError extends Error {
  override readonly name = 'OutboxFullError';
}

export class OutboxClosedError extends Error {
  override readonly name = 'OutboxClosedError';
}

interface LaneItem {
  method: string;
  kind: MethodKind;
  /** One call, or the parts of a split text, sent back to back. */
  parts: Params[];
  signal: AbortSignal | undefined;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface Lane {
  key: string;
  chatId: number | string;
  items: LaneItem[];
  running: boolean;
}

export class Outbox {
  private readonly lanes = new Map<string, Lane>();
  private readonly gate: RateGate;
  private readonly pauses: ScopePauses;
  private readonly closed = new AbortController();
  private readonly maxQueuePerChat: number;
  private readonly logger: Logger | undefined;
  private readonly onApiError: ((code: number) => void) | undefined;
  private outOfLane = 0;
  private idleWaiters: Array<() => void> = [];
  private counters = { sent: 0, resent: 0, uncertain: 0, skippedChatActions: 0 };

  constructor(
    private readonly transport: Transport,
    options: OutboxOptions = {},
  ) {
    // Every waiting call listens on it (hundreds when a burst queues up): not a leak.
    setMaxListeners(0, this.closed.signal);
    this.gate = new RateGate(options.limits, options.now);
    this.pauses = new ScopePauses(options.now !== undefined ? { now: options.now } : {});
    this.maxQueuePerChat = options.maxQueuePerChat ?? 1000;
    this.logger = options.logger;
    this.onApiError = options.onApiError;
  }

  /** Any Bot API call: queued, limited and retried as its method requires. */
  call(method: string, params?: Params, signal?: AbortSignal): Promise<unknown> {
    if (this.closed.signal.aborted) return Promise.reject(new OutboxClosedError(`outbox closed: ${method} not sent`));
    const kind = methodKind(method, params);
    if (kind === 'direct') return this.transport(method, params, signal);
    if (kind === 'callback') return this.track(this.deliver(undefined, undefined, method, kind, params ?? {}, signal));
    const chatId = params?.chat_id as number | string;
    const key = String(chatId);
    if (kind === 'chat-action') {
      // "typing…" is only worth sending when nothing is queued before it and the chat is not paused.
      const lane = this.lanes.get(key);
      if ((lane !== undefined && lane.items.length > 1) || this.pauses.waitMs(key) > 0) {
        this.counters.skippedChatActions++;
        return Promise.resolve(true);
      }
      return this.track(this.deliver(key, chatId, method, kind, params ?? {}, signal));
    }
    return this.enqueue(key, chatId, { method, kind, parts: this.partsOf(method, params ?? {}), signal });
  }

  stats(): OutboxStats {
    let queued = 0;
    for (const lane of this.lanes.values()) queued += lane.items.length;
    return { ...this.counters, rateLimited: this.pauses.count, queued };
  }

  /** Resolves true once nothing is queued or in flight, false if `timeoutMs` passes first. */
  whenIdle(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => resolve(false), timeoutMs) : undefined;
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Lets queued calls go out for up to `graceMs`, then refuses everything left. */
  async stop(graceMs: number): Promise<void> {
    const drained = await this.whenIdle(graceMs);
    if (!drained) this.logger?.warning('outbox: calls still queued at shutdown were not sent', { queued: this.stats().queued });
    this.closed.abort(new OutboxClosedError('outbox closed'));
    for (const lane of this.lanes.values()) {
      for (const item of lane.items.splice(lane.running ? 1 : 0)) item.reject(new OutboxClosedError(`outbox closed: ${item.method} not sent`));
    }
  }

  private partsOf(method: string, params: Params): Params[] {
    const text = params.text;
    if (method !== 'sendMessage' || typeof text !== 'string' || text.length <= TELEGRAM_TEXT_LIMIT) return [params];
    const { reply_markup, reply_parameters, ...rest } = params;
    const parseMode = typeof params.parse_mode === 'string' && params.parse_mode !== '' ? params.parse_mode : undefined;
    const pieces =
      parseMode !== undefined
        ? splitMarkup(text, parseMode, TELEGRAM_TEXT_LIMIT).map((t) => ({ text: t }))
        : splitText(text, params.entities as MessageEntity[] | undefined, TELEGRAM_TEXT_LIMIT);
    // The reply target belongs to the first part, the keyboard to the last.
    return pieces.map((piece, i) => ({
      ...rest,
      ...piece,
      ...(i === 0 && reply_parameters !== undefined ? { reply_parameters } : {}),
      ...(i === pieces.length - 1 && reply_markup !== undefined ? { reply_markup } : {}),
    }));
  }

  private enqueue(key: string, chatId: number | string, item: Omit<LaneItem, 'resolve' | 'reject'>): Promise<unknown> {
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = { key, chatId, items: [], running: false };
      this.lanes.set(key, lane);
    }
    if (lane.items.length >= this.maxQueuePerChat) {
      return Promise.reject(new OutboxFullError(`outbox: ${lane.items.length} calls already waiting for chat ${key}; ${item.method} refused`));
    }
    const queued = lane;
    return new Promise((resolve, reject) => {
      queued.items.push({ ...item, resolve, reject });
      void this.work(queued);
    });
  }

  /** Works a lane until it is empty: one call at a time, in order. */
  private async work(lane: Lane): Promise<void> {
    if (lane.running) return;
    lane.running = true;
    for (let item = lane.items[0]; item !== undefined; item = lane.items[0]) {
      try {
        let result: unknown;
        for (const part of item.parts) result = await this.deliver(lane.key, lane.chatId, item.method, item.kind, part, item.signal);
        item.resolve(result);
      } catch (err) {
        item.reject(err);
      }
      lane.items.shift();
    }
    lane.running = false;
    this.lanes.delete(lane.key);
    this.notifyIfIdle();
  }

  private async track<T>(promise: Promise<T>): Promise<T> {
    this.outOfLane++;
    try {
      return await promise;
    } finally {
      this.outOfLane--;
      this.notifyIfIdle();
    }
  }

  private isIdle(): boolean {
    return this.lanes.size === 0 && this.outOfLane === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** One call until it succeeds or the policy gives up; 429 pauses and waits, never counts as an attempt. */
  private async deliver(key: string | undefined, chatId: number | string | undefined, method: string, kind: MethodKind, params: Params, callerSignal: AbortSignal | undefined): Promise<unknown> {
    const signal = callerSignal === undefined ? this.closed.signal : AbortSignal.any([callerSignal, this.closed.signal]);
    let attempts = 0;
    for (;;) {
      for (let wait = this.pauses.waitMs(key); wait > 0; wait = this.pauses.waitMs(key)) await sleep(wait, undefined, { signal });
      // A free slot is taken without an await: the send goes out before other queued work runs.
      if (kind === 'message' && chatId !== undefined) {
        if (!this.gate.tryMessage(chatId)) await this.gate.message(chatId, signal);
      } else if (kind === 'callback' || kind === 'chat-action') {
        if (!this.gate.tryGlobal()) await this.gate.global(signal);
      }
      if (this.pauses.waitMs(key) > 0) continue; // a 429 arrived while we waited for a slot
      try {
        const result = await this.transport(method, params, signal);
        this.counters.sent++;
        return result;
      } catch (err) {
        if (signal.aborted) throw err;
        if (err instanceof TelegramApiError) this.onApiError?.(err.errorCode);
        const failure = classifyFailure(err);
        if (failure.kind === 'rate-limited') {
          const scope = this.pauses.tooManyRequests(key, failure.retryAfterMs);
          this.logger?.warning('429 Too Many Requests: pausing and sending again', { method, scope: scope === '*' ? 'all chats' : `chat ${scope}`, retryInMs: failure.retryAfterMs });
          continue;
        }
        if (attempts > 0 && failure.kind === 'refused' && isAlreadyDone(method, failure.description)) return true;
        attempts++;
        if (!maySendAgain(method, failure, attempts)) {
          if (failure.kind === 'ambiguous' && !isIdempotent(method)) {
            this.counters.uncertain++;
            this.logger?.warning('a send failed without an answer; not sent again (it may have arrived)', { method, chat: key, error: describeApiError(err), err });
            throw new UncertainDeliveryError(method, err);
          }
          throw err;
        }
        this.counters.resent++;
        this.logger?.warning('a call failed without an answer; sending again', { method, chat: key, attempt: attempts, kind: failure.kind, error: describeApiError(err) });
        await sleep(backoffMs(attempts), undefined, { signal });
      }
    }
  }
}
