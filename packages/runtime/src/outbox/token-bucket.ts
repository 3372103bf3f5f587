/**
 * A continuous-refill token bucket for the rate gate, with node-telegram-bot-api v2's `TokenBucket`
 * refill arithmetic, and no timers: `tryTake()` takes a slot at once when one is there, `waitMs()`
 * says when the next one comes, and the gate (rate-gate.ts) does the waiting for all its buckets
 * on one timer. The gate's common case — a token in every tier — then costs no awaits: each await
 * let other queued work run before the send went out, ~0.1 ms per reply in the latency profile
 * (BENCHMARKS.md, issue 18, latency pass).
 */

/**
 * A token counts as there when this close to whole: `waitMs()` rounds up to whole ms, and the
 * refill arithmetic at that instant can land a hair under 1, which would cost one more wake.
 */
const WHOLE = 1 - 1e-9;

export interface TokenBucketOptions {
  /** Tokens it holds at most (and starts with). Default: the rate per second, at least 1. */
  burst?: number;
  now?: () => number;
}

export class TokenBucket {
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    options: TokenBucketOptions = {},
  ) {
    this.burst = options.burst ?? Math.max(1, Math.ceil(ratePerSec));
    this.now = options.now ?? Date.now;
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Milliseconds until `count` tokens are there (0: now); `count` is capped at the burst. */
  waitMs(count = 1): number {
    this.refill();
    const want = Math.min(count, this.burst);
    if (this.tokens >= want - 1 + WHOLE) return 0;
    return Math.ceil(((want - this.tokens) / this.ratePerSec) * 1000);
  }

  /** Takes a token if one is there now; false (and nothing taken) if not. */
  tryTake(): boolean {
    if (this.waitMs() > 0) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const t = this.now();
    const elapsedSec = (t - this.last) / 1000;
    if (elapsedSec > 0) {
      this.tokens = Math.min(this.burst, this.tokens + elapsedSec * this.ratePerSec);
      this.last = t;
    }
  }
}
