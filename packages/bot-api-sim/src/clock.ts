/**
 * The simulator's notion of "now", injected so flood control and message dates can be driven by
 * a fake clock in unit tests. Timers (long-poll timeouts, waits) stay on real time.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Telegram dates are whole seconds. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
