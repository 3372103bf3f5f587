/**
 * When to answer plain text sent to a bridge that has no sessions: with one line pointing at
 * /help, at most once per user per period (default 10 min) — a person chatting away gets one
 * hint, not a reply to every message. Memory is bounded: the oldest users are forgotten first.
 */

export interface PlainTextHintOptions {
  everyMs?: number;
  /** Users remembered at once. Default 1000. */
  maxUsers?: number;
  now?: () => number;
}

export class PlainTextHint {
  private readonly lastHint = new Map<number, number>();
  private readonly everyMs: number;
  private readonly maxUsers: number;
  private readonly now: () => number;

  constructor(o: PlainTextHintOptions = {}) {
    this.everyMs = o.everyMs ?? 10 * 60_000;
    this.maxUsers = o.maxUsers ?? 1000;
    this.now = o.now ?? Date.now;
  }

  /** True when `userId` should get the hint now (and it is then counted as given). */
  due(userId: number): boolean {
    const now = this.now();
    const last = this.lastHint.get(userId);
    if (last !== undefined && now - last < this.everyMs) return false;
    this.lastHint.delete(userId); // re-inserted last: the map's order is oldest hint first
    this.lastHint.set(userId, now);
    if (this.lastHint.size > this.maxUsers) this.lastHint.delete(this.lastHint.keys().next().value as number);
    return true;
  }
}
