/**
 * Per-user incoming rate limit (default 30 per minute and 500 per hour, sliding windows). A user
 * over the limit gets one polite notice, then silence until the window frees up — a flood of
 * messages must not become a flood of replies. The clock is injected.
 */

export interface RateWindow {
  windowMs: number;
  max: number;
}

export type RateVerdict = { allowed: true } | { allowed: false; notify: boolean; retryInMs: number };

export const DEFAULT_INCOMING_LIMITS: RateWindow[] = [
  { windowMs: 60_000, max: 30 },
  { windowMs: 3_600_000, max: 500 },
];

interface UserWindow {
  /** Accepted update times, oldest first, within the longest window. */
  times: number[];
  /** While limited: the time the notice was sent for this stretch. */
  noticedUntil: number;
}

export class IncomingRateLimit {
  private readonly users = new Map<number, UserWindow>();
  private readonly longest: number;
  private lastSweep = 0;

  constructor(
    private readonly windows: RateWindow[] = DEFAULT_INCOMING_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.longest = Math.max(...windows.map((w) => w.windowMs));
  }

  check(userId: number): RateVerdict {
    const now = this.now();
    this.sweep(now);
    let user = this.users.get(userId);
    if (user === undefined) {
      user = { times: [], noticedUntil: 0 };
      this.users.set(userId, user);
    }
    while (user.times.length > 0 && (user.times[0] as number) <= now - this.longest) user.times.shift();
    let retryInMs = 0;
    for (const w of this.windows) {
      const inWindow = user.times.filter((t) => t > now - w.windowMs);
      if (inWindow.length >= w.max) retryInMs = Math.max(retryInMs, (inWindow[inWindow.length - w.max] as number) + w.windowMs - now);
    }
    if (retryInMs > 0) {
      const notify = now >= user.noticedUntil;
      if (notify) user.noticedUntil = now + retryInMs;
      return { allowed: false, notify, retryInMs };
    }
    user.times.push(now);
    return { allowed: true };
  }

  /** Forgets users idle for longer than the longest window, so memory stays bounded. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.longest) return;
    this.lastSweep = now;
    for (const [id, u] of this.users) {
      const newest = u.times[u.times.length - 1] ?? 0;
      if (newest <= now - this.longest && u.noticedUntil <= now) this.users.delete(id);
    }
  }
}
