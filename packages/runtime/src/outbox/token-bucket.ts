/**
 * A continuous-refill token bucket for the rate gate, as node-telegram-bot-api v2's `TokenBucket`
 * (same refill arithmetic, the wait one abortable timer), plus `tryTake()`: a slot taken at once,
 * without a promise, when one is there. The gate's common case — a token in every tier — then
 * costs no awaits: each await let other queued work run before the send went out, ~0.1 ms per
 * reply in the latency profile (BENCHMARKS.md, issue 18, latency pass).
 */

export interface TokenBucketOptions {
  /** Tokens it holds at most (and starts with). Default: the rate per second, at least 1. */
  burst?: number;
  now?: () => number;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts. */
function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
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

  /** Milliseconds until a token is there (0: now). */
  waitMs(): number {
    this.refill();
    if (this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) / this.ratePerSec) * 1000);
  }

  /** Takes a token if one is there now; false (and nothing taken) if not. */
  tryTake(): boolean {
    if (this.waitMs() > 0) return false;
    this.tokens -= 1;
    return true;
  }

  /** Waits until a token is there, then takes it; an abort rejects with the signal's reason and takes none. */
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.waitMs();
      if (wait <= 0) {
        this.tokens -= 1;
        return;
      }
      await abortableDelay(wait, signal); // then check again: another taker may have been first
    }
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
