/**
 * The new process's side of a reload's hand-over: the updates the old process was still handling
 * when it handed the inbox over (take-over's `held`). They stay in the inbox and are not dispatched
 * here while the old process runs them; every other update of the same chat waits behind them, so
 * per-chat order holds across the two processes. A relayed `settled` settles one in this process's
 * inbox and lets its chat go on; `stores-released` (the old process closed its stores, or exited —
 * killed, crashed, its grace ended) hands out whatever is still held, marked `redelivered`: a
 * handler may have seen it. What it keeps counts against the dispatcher's capacity (`kept`), so
 * polling waits for room as it would if they were queued there. Only the gate between the inbox
 * and the dispatcher; the relaying is the supervisor's (reload/hand-over-relay.ts).
 */
import type { Logger } from '@botvisor/core';
import type { DispatchItem } from '../dispatch/dispatcher.js';
import { orderingKeyOf } from '../dispatch/update-shape.js';

export interface HeldUpdatesTarget {
  /** Settles an update in this process's inbox. */
  settle: (updateId: number) => void;
  /** Hands an update to the dispatcher (after everything of its chat that was ahead of it). */
  enqueue: (item: DispatchItem) => void;
  /** How many updates are kept here now (held ones found in the inbox, and those waiting behind them), after each change. */
  kept?: (count: number) => void;
}

export class HeldUpdates {
  /** Held update ids not yet settled or let go of. */
  private readonly open: Set<number>;
  /** Held updates found in the inbox, by id, with their ordering key. */
  private readonly found = new Map<number, { item: DispatchItem; key: string }>();
  /** Updates waiting behind a held update of their chat, per ordering key, in arrival order. */
  private readonly waiting = new Map<string, DispatchItem[]>();
  /** Settles relayed before the inbox was open. */
  private readonly settledEarly = new Set<number>();
  private target: HeldUpdatesTarget | undefined;
  private isReleased = false;
  private onReleased: () => void = () => undefined;
  /** Resolves once the old process has let go of its stores (closed them, or exited). */
  readonly released: Promise<void>;

  constructor(
    held: readonly number[],
    private readonly logger: Logger,
  ) {
    this.open = new Set(held);
    this.released = new Promise((resolve) => {
      this.onReleased = resolve;
    });
  }

  get count(): number {
    return this.open.size;
  }

  /** Updates kept here now: the held ones found in the inbox and those waiting behind them. */
  get keptCount(): number {
    let n = this.found.size;
    for (const queue of this.waiting.values()) n += queue.length;
    return n;
  }

  /** Where settles and released updates go, once the inbox is open and the dispatcher exists. */
  attach(target: HeldUpdatesTarget): void {
    this.target = target;
  }

  /**
   * Every update on its way to the dispatcher passes here (leftovers, then new ones). True: it is
   * kept — a held update, or one whose chat has a held update ahead of it; false: dispatch it.
   */
  keep(item: DispatchItem): boolean {
    const id = item.update.update_id;
    // Settled by the old process before the inbox here was open (even if it has let go of its stores since).
    if (this.settledEarly.delete(id)) {
      this.open.delete(id);
      this.target?.settle(id);
      return true;
    }
    if (this.isReleased) return false;
    const key = orderingKeyOf(item.update);
    if (this.open.has(id) && !this.found.has(id)) {
      this.found.set(id, { item, key });
      this.reportKept();
      return true;
    }
    const queue = this.waiting.get(key);
    if (queue !== undefined) {
      queue.push(item);
      this.reportKept();
      return true;
    }
    if (this.heldKeys().has(key)) {
      this.waiting.set(key, [item]);
      this.reportKept();
      return true;
    }
    return false;
  }

  /** The leftovers have all passed `keep`: a held id not among them is not in the inbox (nothing to hold). */
  recovered(): void {
    for (const id of this.open) {
      if (this.found.has(id)) continue;
      this.open.delete(id);
      this.settledEarly.delete(id);
    }
  }

  /** The old process settled `updateId` (relayed): it leaves this inbox, and its chat goes on. */
  settle(updateId: number): void {
    if (!this.open.has(updateId)) return;
    const held = this.found.get(updateId);
    if (held === undefined || this.target === undefined) {
      this.settledEarly.add(updateId);
      return;
    }
    this.open.delete(updateId);
    this.found.delete(updateId);
    this.target.settle(updateId);
    if (!this.heldKeys().has(held.key)) this.letGo(held.key);
    this.reportKept();
  }

  /** The old process let go of its stores: what it did not settle is handed out here, marked redelivered. */
  release(): void {
    if (this.isReleased) return;
    this.isReleased = true;
    // Held ids not yet found in the inbox are let go of: found later, they are handed out as the inbox says (redelivered).
    for (const id of this.open) if (!this.found.has(id) && !this.settledEarly.has(id)) this.open.delete(id);
    const unsettled = [...this.found.values()];
    if (unsettled.length > 0) {
      this.logger.warning('the old process ended without settling updates it was handling: handing them out again, marked redelivered', { updateIds: unsettled.map((h) => h.item.update.update_id) });
    }
    for (const { item } of unsettled) this.target?.enqueue({ ...item, redelivered: true });
    this.open.clear();
    this.found.clear();
    for (const key of [...this.waiting.keys()]) this.letGo(key);
    this.reportKept();
    this.onReleased();
  }

  /** After the dispatcher has what was let go of: a smaller count is room for it. */
  private reportKept(): void {
    this.target?.kept?.(this.keptCount);
  }

  private heldKeys(): Set<string> {
    return new Set([...this.found.values()].map((h) => h.key));
  }

  private letGo(key: string): void {
    const queue = this.waiting.get(key) ?? [];
    this.waiting.delete(key);
    for (const item of queue) this.target?.enqueue(item);
  }
}
