/**
 * The restart policy: how long a crashed bot waits for its restart, until its crash budget is
 * spent (then it is given up on). The first crash of a bot that had been
 * stable restarts it at once (a one-off crash should cost no more than under PM2); from the
 * second crash in a row the delay grows exponentially with jitter (250 ms ×2 up to 30 s by
 * default), and it starts over once the bot has stayed ready for a while.
 * The crash budget counts crashes over the whole lifetime in a sliding window — not just in the
 * first seconds after start, which is how PM2 and supervisord let a bot that dies every minute
 * restart forever. Clock and randomness are injected.
 */

export interface RestartPolicyOptions {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
  budget: number;
  windowMs: number;
  now?: () => number;
  random?: () => number;
}

export type CrashVerdict = { giveUp: false; delayMs: number; crashesInWindow: number } | { giveUp: true; crashesInWindow: number };

export class RestartPolicy {
  private crashTimes: number[] = [];
  private consecutive = 0;
  private readySince: number | undefined;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly o: RestartPolicyOptions) {
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  /** The bot became ready: the clock for "stable long enough to reset the backoff" starts. */
  onReady(): void {
    this.readySince = this.now();
  }

  /** A crash (any cause that counts). Returns how long to wait, or that the budget is spent. */
  onCrash(): CrashVerdict {
    const now = this.now();
    if (this.readySince !== undefined && now - this.readySince >= this.o.resetAfterMs) this.consecutive = 0;
    this.readySince = undefined;
    this.crashTimes = this.crashTimes.filter((t) => t > now - this.o.windowMs);
    this.crashTimes.push(now);
    if (this.crashTimes.length > this.o.budget) return { giveUp: true, crashesInWindow: this.crashTimes.length };
    this.consecutive++;
    if (this.consecutive === 1) return { giveUp: false, delayMs: 0, crashesInWindow: this.crashTimes.length };
    const base = Math.min(this.o.maxMs, this.o.initialMs * 2 ** (this.consecutive - 2));
    const jittered = base * (0.8 + 0.4 * this.random());
    return { giveUp: false, delayMs: Math.round(Math.min(this.o.maxMs, jittered)), crashesInWindow: this.crashTimes.length };
  }

  /** A person restarted the bot (`botvisor restart`): forget the past. */
  reset(): void {
    this.crashTimes = [];
    this.consecutive = 0;
    this.readySince = undefined;
  }
}
