/**
 * Scheduling of handled updates: updates of one chat run in order, different chats run
 * concurrently up to a bound, nothing runs before the start-up barrier opens, and priority
 * updates (control commands such as /stop) skip their chat's queue so they never wait behind
 * the job they are meant to stop. It holds at most `capacity` updates and says how much room is
 * left, so the poll loop fetches no more than fits (backpressure); updates held for it elsewhere
 * (a reload's held chats) count against that capacity too. What "handling" means is the
 * pipeline's business, not this.
 */
import { settlesWithin } from '@botvisor/core';
import type { Update } from 'node-telegram-bot-api';
import { orderingKeyOf } from './update-shape.js';

/** One update on its way to the bot's handlers; `redelivered` travels with it to `ctx.redelivered`. */
export interface DispatchItem {
  update: Update;
  /** A handler of an earlier run may already have seen this update. */
  redelivered: boolean;
}

/** Where the dispatcher records that a handler began on an update and that it settled (the inbox). */
export interface HandlingLedger {
  markStarted(updateId: number): void;
  /** Done, failed or skipped: the update leaves the books. */
  settle(updateId: number): void;
}

/** Held updates (waiting and running) by default; a chat flooding past it makes polling wait. */
export const DEFAULT_DISPATCH_CAPACITY = 1000;

export interface DispatcherOptions {
  /** Different chats handled at once. Default 32. */
  concurrency?: number;
  /** Updates held at once, waiting and running, before `spare` reaches 0. Default 1000 (at least `concurrency`). */
  capacity?: number;
  /**
   * Decides at arrival whether an update is taken at all (admission.ts); false drops it, settled at
   * once. Deciding here, not when the update leaves its chat's queue, is what lets a rate limit count arrivals.
   */
  admit?: (item: DispatchItem) => boolean;
  /** Runs one update to completion; must not reject (the pipeline has its own error boundary). */
  handle: (item: DispatchItem) => Promise<void>;
  /** True for updates that skip their chat's queue. */
  isPriority?: (update: Update) => boolean;
  /** Told as a handler begins and after it settles. */
  ledger?: HandlingLedger;
}

export class Dispatcher {
  private readonly queues = new Map<string, DispatchItem[]>();
  /** Keys with queued work and nothing running, in the order they became ready. */
  private readonly readyKeys: string[] = [];
  private readonly busyKeys = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private priorityWaiting: DispatchItem[] = [];
  /** Callers of `whenSpare` waiting for handlers to settle. */
  private spareWaiters: Array<{ enough: () => boolean; done: () => void }> = [];
  private isOpen = false;
  private isStopped = false;
  /** Updates held for this dispatcher outside it (setHeldOutside). */
  private heldOutside = 0;
  private readonly concurrency: number;
  private readonly capacity: number;

  constructor(private readonly options: DispatcherOptions) {
    this.concurrency = options.concurrency ?? 32;
    this.capacity = Math.max(options.capacity ?? DEFAULT_DISPATCH_CAPACITY, this.concurrency);
  }

  /** Updates waiting (not yet started). */
  get queued(): number {
    let n = this.priorityWaiting.length;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  get running(): number {
    return this.inFlight.size;
  }

  /** Updates it can take before it holds `capacity` (0 when full; leftovers of a previous run may overfill it). */
  get spare(): number {
    return Math.max(0, this.capacity - this.queued - this.running - this.heldOutside);
  }

  /**
   * How many updates are held for this dispatcher outside it — a reload's new process keeps the
   * updates of the chats the old one still runs (lifecycle/held-updates.ts) — so they count
   * against the capacity, and a chat flooding behind a held update makes polling wait as a chat
   * flooding here does. Fewer of them may be the room a waiting poll needs.
   */
  setHeldOutside(count: number): void {
    this.heldOutside = count;
    this.wakeSpareWaiters();
  }

  /**
   * Resolves once `spare` is at least `wanted` (capped at the capacity), or when `signal` aborts.
   * Waiting for a batch's worth rather than one free slot keeps a full dispatcher from being fed
   * one update per getUpdates, each with its own inbox fsync.
   */
  whenSpare(signal?: AbortSignal, wanted = 1): Promise<void> {
    const enough = (): boolean => this.spare >= Math.min(Math.max(1, wanted), this.capacity);
    if (enough() || signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { enough, done: (): void => {} };
      waiter.done = () => {
        signal?.removeEventListener('abort', waiter.done);
        this.spareWaiters = this.spareWaiters.filter((w) => w !== waiter);
        resolve();
      };
      this.spareWaiters.push(waiter);
      signal?.addEventListener('abort', waiter.done, { once: true });
    });
  }

  enqueue(item: DispatchItem): void {
    if (this.isStopped) return; // it stays in the inbox and runs after the restart
    if (this.options.admit?.(item) === false) {
      this.options.ledger?.settle(item.update.update_id);
      return;
    }
    if (this.options.isPriority?.(item.update) === true) {
      if (this.isOpen) this.start(item, undefined);
      else this.priorityWaiting.push(item);
      return;
    }
    const key = orderingKeyOf(item.update);
    const q = this.queues.get(key);
    if (q === undefined) {
      this.queues.set(key, [item]);
      if (!this.busyKeys.has(key)) this.readyKeys.push(key);
    } else {
      q.push(item);
    }
    this.pump();
  }

  /** Opens the start-up barrier: everything queued so far starts, in order. */
  open(): void {
    if (this.isOpen || this.isStopped) return;
    this.isOpen = true;
    for (const item of this.priorityWaiting.splice(0)) this.start(item, undefined);
    this.pump();
  }

  /** Starts nothing new; waits for running handlers up to `graceMs`. Resolves true if all finished. */
  async stop(graceMs: number): Promise<boolean> {
    this.isStopped = true;
    if (this.inFlight.size === 0) return true;
    return settlesWithin(Promise.all([...this.inFlight]), graceMs);
  }

  private pump(): void {
    while (this.isOpen && !this.isStopped && this.busyKeys.size < this.concurrency && this.readyKeys.length > 0) {
      const key = this.readyKeys.shift() as string;
      const q = this.queues.get(key);
      const item = q?.shift();
      if (item === undefined) continue;
      if (q !== undefined && q.length === 0) this.queues.delete(key);
      this.busyKeys.add(key);
      this.start(item, key);
    }
  }

  private start(item: DispatchItem, key: string | undefined): void {
    this.options.ledger?.markStarted(item.update.update_id);
    const run = this.options.handle(item).finally(() => {
      this.inFlight.delete(run);
      this.options.ledger?.settle(item.update.update_id);
      if (key !== undefined) {
        this.busyKeys.delete(key);
        if (this.queues.has(key)) this.readyKeys.push(key);
        this.pump();
      }
      this.wakeSpareWaiters();
    });
    this.inFlight.add(run);
  }

  private wakeSpareWaiters(): void {
    if (this.spareWaiters.length === 0) return; // every settle comes here: no copy when nobody waits
    for (const waiter of [...this.spareWaiters]) if (waiter.enough()) waiter.done();
  }
}
