/**
 * The polling loop: our own loop over `getUpdates`, because a library's would stop on 409.
 * Each batch goes to the durable inbox before the next request confirms its offset; each request
 * asks for no more updates than the next stage has room for, and waits while it has none.
 * Failures are handled as error-policy.ts says; a 409 storm is reported with counts.
 *
 * Offsets, by Telegram's rule that a getUpdates with an offset above an update's id confirms
 * (forgets) it: at start and after a transient failure (network, timeout, 5xx: what a restarting
 * server looks like), the server may be a restarted one that numbers from 1 again, and our
 * stored, higher offset would erase its new updates unseen. So the first poll then goes without
 * an offset; what it hands out again the inbox recognises, and its answer rebases the offset. An update without a numeric id is skipped with a WARNING before the
 * inbox, so the offset never becomes NaN.
 */
import type { Logger } from '@botvisor/core';
import { type Api, TelegramApiError, type Update } from 'node-telegram-bot-api';
import { hasUpdateId } from '../dispatch/update-shape.js';
import type { AcceptedUpdate } from '../inbox/inbox.js';
import { fingerprintOf } from '../inbox/recent-updates.js';
import type { UpdateInbox } from '../inbox/update-inbox.js';
import { Backoff } from './backoff.js';
import { pauseAfterEmptyAnswer } from './empty-answer-pace.js';
import { classifyPollError } from './error-policy.js';

export interface ConflictReport {
  /** 409s since this process started. */
  total: number;
  /** 409s in a row, without a successful poll between. */
  consecutive: number;
}

/** Room in the next stage (the dispatcher): getUpdates asks for no more than `spare`, and waits at 0. */
export interface Backpressure {
  readonly spare: number;
  /** Resolves once `spare` is at least `wanted` (or all the stage can ever take), or when `signal` aborts. */
  whenSpare(signal: AbortSignal, wanted: number): Promise<void>;
}

/**
 * The longest wait after a 409, shorter than the backoff's 30 s: another poller on the token is
 * found out (poll-health.ts) and its going away noticed within seconds, not a minute.
 */
export const CONFLICT_MAX_WAIT_MS = 10_000;

/** Telegram's own cap on one getUpdates answer. */
const MAX_BATCH = 100;

export interface PollLoopOptions {
  api: Pick<Api, 'getUpdates'>;
  /** Where a batch is durable before its offset is confirmed. */
  inbox: Pick<UpdateInbox, 'offset' | 'accept'>;
  logger: Logger;
  /** New updates, already durable in the inbox. */
  deliver: (updates: AcceptedUpdate[]) => void;
  /** How much `deliver` can take now; without it every request asks for `limit`. */
  backpressure?: Backpressure;
  /** Long-poll seconds. Default 30. */
  timeoutSec?: number;
  /** Updates per request at most (1–100). Default 100. */
  limit?: number;
  allowedUpdates?: string[];
  onConflict?: (report: ConflictReport) => void;
  /** Every error answer of the Bot API to getUpdates, by code (for metrics). */
  onApiError?: (code: number) => void;
  /** 401/404: the token is wrong. The loop stops; the caller exits 78. */
  onBadToken: (description: string) => void;
  backoff?: Backoff;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * One turn of the event loop. A handler's reply is a chain of microtasks up to its socket write;
 * without this the next getUpdates (itself a chain of microtasks and a request the server then
 * serves first) was built in between: ~0.1 ms more on every reply, measured (BENCHMARKS.md).
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class PollLoop {
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  private conflicts: ConflictReport = { total: 0, consecutive: 0 };
  private readonly backoff: Backoff;
  /** The next poll goes without the stored offset: until an answer with updates has rebased it. */
  private rebase = true;
  /** The last update skipped for having no id, so a server that hands it out on every poll is not a WARNING every poll. */
  private lastIdless: string | undefined;
  /** getUpdates calls that returned (for tests and metrics). */
  polls = 0;

  constructor(private readonly options: PollLoopOptions) {
    this.backoff = options.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30_000 });
  }

  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Aborts the pending request and resolves once the loop has exited. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { api, inbox, logger } = this.options;
    const signal = this.controller.signal;
    while (!signal.aborted) {
      const limit = await this.room(signal);
      if (signal.aborted) break;
      let updates: Update[];
      const askedAt = Date.now();
      try {
        updates = await api.getUpdates(
          {
            ...(this.rebase ? {} : { offset: inbox.offset }),
            timeout: this.options.timeoutSec ?? 30,
            limit,
            ...(this.options.allowedUpdates !== undefined ? { allowed_updates: this.options.allowedUpdates as never } : {}),
          },
          signal,
        );
      } catch (err) {
        if (signal.aborted) break;
        if (classifyPollError(err).kind === 'transient') this.rebase = true; // the server may have restarted meanwhile
        if (err instanceof TelegramApiError) this.options.onApiError?.(err.errorCode);
        const waitMs = this.onFailure(err);
        if (waitMs === undefined) break;
        await abortableSleep(waitMs, signal);
        continue;
      }
      this.polls++;
      if (this.conflicts.consecutive > 0) {
        logger.info('polling resumed after 409 conflicts', { conflicts: this.conflicts.consecutive });
        this.conflicts = { ...this.conflicts, consecutive: 0 };
      }
      this.backoff.reset();
      const usable = this.withIds(updates);
      if (usable.length === 0) {
        await abortableSleep(pauseAfterEmptyAnswer(Date.now() - askedAt), signal); // a server that answers at once must not make this a busy loop
        continue;
      }
      const fresh = await inbox.accept(usable); // durable before the next getUpdates confirms the offset
      this.rebase = false;
      if (fresh.length > 0) {
        this.options.deliver(fresh);
        await nextTurn(); // the handlers' first sends go out before the next getUpdates is built
      }
    }
  }

  /** The updates with a numeric update_id; each one without is skipped with a WARNING (its keys, never its content). */
  private withIds(updates: readonly unknown[]): Update[] {
    const usable = updates.filter(hasUpdateId);
    for (const u of updates) {
      if (hasUpdateId(u)) continue;
      const fingerprint = fingerprintOf(u);
      const meta = { keys: typeof u === 'object' && u !== null ? Object.keys(u) : typeof u };
      if (fingerprint !== this.lastIdless) this.options.logger.warning('skipped an update without a numeric update_id (from a proxy or a faulty Bot API server); the offset stays where it was', meta);
      else this.options.logger.debug('skipped the same update without update_id again', meta);
      this.lastIdless = fingerprint;
    }
    return usable;
  }

  /**
   * How many updates the next request may ask for. When the next stage is full, waits until it
   * has room for a whole batch again: refilling it one freed slot at a time would cost a
   * getUpdates and an inbox fsync per update.
   */
  private async room(signal: AbortSignal): Promise<number> {
    const most = Math.min(this.options.limit ?? MAX_BATCH, MAX_BATCH);
    const pressure = this.options.backpressure;
    if (pressure === undefined) return most;
    if (pressure.spare === 0) await pressure.whenSpare(signal, most);
    return Math.min(most, pressure.spare);
  }

  /** Logs the failure at the right level; returns how long to wait, or undefined to stop. */
  private onFailure(err: unknown): number | undefined {
    const { logger } = this.options;
    const failure = classifyPollError(err);
    switch (failure.kind) {
      case 'conflict': {
        this.conflicts = { total: this.conflicts.total + 1, consecutive: this.conflicts.consecutive + 1 };
        const waitMs = Math.min(this.backoff.next(), CONFLICT_MAX_WAIT_MS);
        logger.warning('409 Conflict: another process is polling this token; backing off', { ...this.conflicts, retryInMs: waitMs });
        this.options.onConflict?.({ ...this.conflicts });
        return waitMs;
      }
      case 'rate-limited':
        logger.warning('429 Too Many Requests on getUpdates; waiting as told', { retryInMs: failure.retryAfterMs });
        return failure.retryAfterMs;
      case 'transient': {
        const waitMs = this.backoff.next();
        logger.warning('getUpdates failed (network, timeout or server error); retrying', { error: failure.description, retryInMs: waitMs });
        return waitMs;
      }
      case 'bad-token':
        logger.error('the Bot API refused the token; fix the token in the config', { error: failure.description });
        this.options.onBadToken(failure.description);
        return undefined;
      case 'unexpected': {
        const waitMs = this.backoff.next();
        logger.error('getUpdates failed unexpectedly; retrying', { error: failure.description, retryInMs: waitMs });
        return waitMs;
      }
    }
  }
}
