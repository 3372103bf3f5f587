/**
 * One bot's queue of undelivered updates, with getUpdates' offset semantics: ids are assigned
 * here, in order; confirming an offset forgets everything below it for good; whatever is left is
 * handed out again on every call until it is confirmed. Filtering by `allowed_updates` happens
 * when an update is created, as on Telegram (a changed filter does not touch queued updates).
 */
import type { Update, UpdateKind } from './telegram-types.js';

/** Telegram's default when `allowed_updates` was never given: everything but these. */
const OFF_BY_DEFAULT: ReadonlySet<string> = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);

export type UpdateBody = Omit<Update, 'update_id'>;

export class UpdateQueue {
  private queued: Update[] = [];
  private nextId: number;
  private allowed: ReadonlySet<string> | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(firstUpdateId = 1) {
    this.nextId = firstUpdateId;
  }

  get pendingCount(): number {
    return this.queued.length;
  }

  /** The filter getUpdates/setWebhook set; an empty list restores the default. */
  setAllowedUpdates(kinds: readonly string[]): void {
    this.allowed = kinds.length === 0 ? undefined : new Set(kinds);
  }

  allowedUpdates(): string[] | undefined {
    return this.allowed === undefined ? undefined : [...this.allowed];
  }

  accepts(kind: UpdateKind): boolean {
    return this.allowed === undefined ? !OFF_BY_DEFAULT.has(kind) : this.allowed.has(kind);
  }

  /** Queues an update and returns its id, or undefined when `allowed_updates` filters it out. */
  push(kind: UpdateKind, body: UpdateBody): number | undefined {
    if (!this.accepts(kind)) return undefined;
    // A snapshot: the bot may edit a message after the update about it was made, as on Telegram.
    const update: Update = { update_id: this.nextId++, ...structuredClone(body) };
    this.queued.push(update);
    for (const listener of this.listeners) listener();
    return update.update_id;
  }

  /**
   * getUpdates' `offset`: a positive offset forgets updates with a smaller id; a negative one keeps
   * only the last `-offset` updates; 0 confirms nothing.
   */
  confirm(offset: number): void {
    if (offset > 0) {
      const firstKept = this.queued.findIndex((u) => u.update_id >= offset);
      this.queued = firstKept === -1 ? [] : this.queued.slice(firstKept);
    } else if (offset < 0) {
      this.queued = this.queued.slice(offset);
    }
  }

  /** The oldest `limit` unconfirmed updates; they stay queued until confirmed. */
  peek(limit: number): Update[] {
    return this.queued.slice(0, limit);
  }

  /** deleteWebhook/setWebhook with `drop_pending_updates`. */
  dropAll(): void {
    this.queued = [];
  }

  /** Called on every new update; returns the unsubscribe function. */
  onPush(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets queued updates and the filter; ids keep counting up, so a running bot's offset stays valid. */
  reset(): void {
    this.queued = [];
    this.allowed = undefined;
  }
}
