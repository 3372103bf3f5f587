/**
 * The store's notion of time: "now" for backup and corrupt-copy names, and a repeating timer for
 * the backup interval. Injected so tests drive backups by hand instead of patching global timers.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `tick` every `intervalMs` until the returned function is called. The timer must never
   * keep the process alive on its own.
   */
  every(intervalMs: number, tick: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  every(intervalMs, tick) {
    const timer = setInterval(tick, intervalMs);
    // A backup timer is housekeeping: it must not hold a bot process open after its work is done.
    timer.unref();
    return () => clearInterval(timer);
  },
};
