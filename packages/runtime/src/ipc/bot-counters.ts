/**
 * The cumulative figures a bot sends in every `pong`, for the supervisor's /metrics: updates
 * handled, handler errors, handler durations (histogram buckets shared with the supervisor),
 * Bot API error answers by code. They start at 0 with the process; the supervisor adds deltas.
 */
import { type BotCounters, HANDLER_SECONDS_BUCKETS } from '@botvisor/core';

export class BotCountersCollector {
  private updates = 0;
  private handlerErrors = 0;
  private sum = 0;
  private count = 0;
  private readonly buckets = HANDLER_SECONDS_BUCKETS.map(() => 0);
  private readonly telegramErrors: Record<string, number> = {};

  /** One update went through a handler (skipped ones — malformed, unauthorized, rate-limited — are not counted). */
  handled(outcome: 'ok' | 'error', seconds: number): void {
    this.updates++;
    if (outcome === 'error') this.handlerErrors++;
    this.sum += seconds;
    this.count++;
    HANDLER_SECONDS_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    });
  }

  /** The Bot API answered an error (any call: polling or sending). */
  apiError(code: number): void {
    const key = String(code);
    this.telegramErrors[key] = (this.telegramErrors[key] ?? 0) + 1;
  }

  snapshot(jobsQueued: number): BotCounters {
    return {
      updates: this.updates,
      handlerErrors: this.handlerErrors,
      handlerSeconds: { sum: this.sum, count: this.count, buckets: [...this.buckets] },
      telegramErrors: { ...this.telegramErrors },
      jobsQueued,
    };
  }
}
