/**
 * Counters for one bot, read by tests and benchmarks through the control API. `maxPendingPollers`
 * is the key fidelity figure: a getUpdates counts as pending from the moment its request arrives
 * until its response is written, so two overlapping polls show up as 2 even though Telegram
 * (and the sim) end the older one with a 409 at once.
 */

export interface BotStatsSnapshot {
  /** Every Bot API call on this token, answered or not. */
  requests: number;
  getUpdatesCalls: number;
  /** getUpdates requests open right now. */
  pendingPollers: number;
  /** The most getUpdates requests ever open at once (since start or the last stats reset). */
  maxPendingPollers: number;
  /** Updates handed out by getUpdates (a redelivered update counts again). */
  updatesDelivered: number;
  /** 409 answers of any cause. */
  conflicts: number;
  /** 429 answers of any cause (flood control or an injected fault). */
  tooManyRequests: number;
  /** Messages the bot sent successfully (sendMessage, sendDocument). */
  messagesSent: number;
  /** Any other error answer (400, 401, 403, 404, 5xx …). */
  otherErrors: number;
}

export class BotStats {
  private counters: BotStatsSnapshot = BotStats.zero(0);

  private static zero(pendingPollers: number): BotStatsSnapshot {
    return {
      requests: 0,
      getUpdatesCalls: 0,
      pendingPollers,
      maxPendingPollers: pendingPollers,
      updatesDelivered: 0,
      conflicts: 0,
      tooManyRequests: 0,
      messagesSent: 0,
      otherErrors: 0,
    };
  }

  request(): void {
    this.counters.requests++;
  }

  pollerArrived(): void {
    this.counters.getUpdatesCalls++;
    this.counters.pendingPollers++;
    if (this.counters.pendingPollers > this.counters.maxPendingPollers) this.counters.maxPendingPollers = this.counters.pendingPollers;
  }

  pollerAnswered(): void {
    this.counters.pendingPollers--;
  }

  delivered(count: number): void {
    this.counters.updatesDelivered += count;
  }

  messageSent(): void {
    this.counters.messagesSent++;
  }

  answeredError(errorCode: number): void {
    if (errorCode === 409) this.counters.conflicts++;
    else if (errorCode === 429) this.counters.tooManyRequests++;
    else this.counters.otherErrors++;
  }

  snapshot(): BotStatsSnapshot {
    return { ...this.counters };
  }

  /** Zeroes the counters; polls still open stay counted as pending. */
  reset(): void {
    this.counters = BotStats.zero(this.counters.pendingPollers);
  }
}
