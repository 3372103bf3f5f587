/**
 * Scheduling of handled updates: updates of one chat run in order, different chats run
 * concurrently up to a bound, nothing runs before the start-up barrier opens, and priority
 * updates (control commands such as /stop) skip their chat's queue so they never wait behind
 * the job they are meant to stop. What "handling" means is the pipeline's business, not this.
 */
import type { Update } from 'node-telegram-bot-api';
import { orderingKeyOf } from './update-shape.js';

export interface DispatchItem {
  update: Update;
  redelivered: boolean;
}

export interface DispatcherOptions {
  /** Different chats handled at once. Default 32. */
  concurrency?: number;
  /** Runs one update to completion; must not reject (the pipeline has its own error boundary). */
  handle: (item: DispatchItem) => Promise<void>;
  /** True for updates that skip their chat's queue. */
  isPriority?: (update: Update) => boolean;
  /** Called as a handler begins and after it settles. */
  onStart?: (item: DispatchItem) => void;
  onSettled?: (item: DispatchItem) => void;
}

export class Dispatcher {
  private readonly queues = new Map<string, DispatchItem[]>();
  /** Keys with queued work and nothing running, in the order they became ready. */
  private readonly readyKeys: string[] = [];
  private readonly busyKeys = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private priorityWaiting: DispatchItem[] = [];
  private isOpen = false;
  private isStopped = false;
  private readonly concurrency: number;

  constructor(private readonly options: DispatcherOptions) {
    this.concurrency = options.concurrency ?? 32;
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

  enqueue(item: DispatchItem): void {
    if (this.isStopped) return; // it stays in the inbox and runs after the restart
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
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const all = Promise.all([...this.inFlight]).then(() => true);
    const finished = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return finished;
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
    this.options.onStart?.(item);
    const run = this.options.handle(item).finally(() => {
      this.inFlight.delete(run);
      this.options.onSettled?.(item);
      if (key !== undefined) {
        this.busyKeys.delete(key);
        if (this.queues.has(key)) this.readyKeys.push(key);
        this.pump();
      }
    });
    this.inFlight.add(run);
  }
}
