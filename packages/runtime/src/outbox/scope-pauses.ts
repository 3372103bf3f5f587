/**
 * 429 pauses, by scope. A 429 on a call to a chat pauses that chat for `retry_after`; the other
 * chats keep going. A 429 without a chat (a callback answer), or 429s in several different chats
 * within a short window — the sign that the bot-wide limit was hit, not one chat's — pause
 * everything. Telegram's answer does not name the limit it enforced, so this is the closest
 * reading of it; pausing more than needed only delays, pausing less only brings another 429.
 */

export const GLOBAL_SCOPE = '*';

export interface ScopePauseOptions {
  now?: () => number;
  /** Distinct chats with a 429 within `windowMs` that mean the bot-wide limit. Default 3. */
  chatsForGlobal?: number;
  windowMs?: number;
}

export class ScopePauses {
  private readonly until = new Map<string, number>();
  private recent: Array<{ chat: string; at: number }> = [];
  private readonly now: () => number;
  private readonly chatsForGlobal: number;
  private readonly windowMs: number;
  /** 429s seen, for stats. */
  count = 0;

  constructor(options: ScopePauseOptions = {}) {
    this.now = options.now ?? Date.now;
    this.chatsForGlobal = options.chatsForGlobal ?? 3;
    this.windowMs = options.windowMs ?? 1000;
  }

  /** Records a 429 for `chat` (or for no chat: undefined) and returns the scope it paused. */
  tooManyRequests(chat: string | undefined, retryAfterMs: number): string {
    this.count++;
    const now = this.now();
    let scope = chat ?? GLOBAL_SCOPE;
    if (chat !== undefined) {
      this.recent = this.recent.filter((r) => now - r.at < this.windowMs && r.chat !== chat);
      this.recent.push({ chat, at: now });
      if (this.recent.length >= this.chatsForGlobal) scope = GLOBAL_SCOPE;
    }
    this.until.set(scope, Math.max(this.until.get(scope) ?? 0, now + retryAfterMs));
    return scope;
  }

  /** Milliseconds until `chat` (and everything) may send again; 0 now. */
  waitMs(chat: string | undefined): number {
    const now = this.now();
    const global = (this.until.get(GLOBAL_SCOPE) ?? 0) - now;
    const own = chat === undefined ? 0 : (this.until.get(chat) ?? 0) - now;
    const wait = Math.max(0, global, own);
    if (wait === 0 && this.until.size > 64) this.prune(now);
    return wait;
  }

  private prune(now: number): void {
    for (const [scope, until] of this.until) if (until <= now) this.until.delete(scope);
  }
}
