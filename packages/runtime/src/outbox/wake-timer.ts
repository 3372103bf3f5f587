/**
 * One re-armable timer for the rate gate: every waiting send shares it, so a backlog costs one
 * event-loop wake per release of sends, not a timer per send and tier (BENCHMARKS.md, "Issue 18,
 * CPU pass"). Arming keeps the earliest wake asked for. It keeps the process alive while armed,
 * as the per-send timers it replaces did (queued sends are work to finish).
 */

/** The timer functions the wake timer uses; injected by tests that count or step wakes. */
export interface TimerFunctions {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: TimerFunctions = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class WakeTimer {
  private handle: unknown;
  /** When the armed timer fires (clock time); +Infinity when disarmed. */
  private at = Number.POSITIVE_INFINITY;
  /** Wakes so far (for tests and profiles). */
  wakes = 0;

  constructor(
    private readonly onWake: () => void,
    private readonly now: () => number,
    private readonly timers: TimerFunctions = realTimers,
  ) {}

  /** Makes sure a wake comes `inMs` from now; an earlier armed wake is kept. */
  armIn(inMs: number): void {
    const now = this.now();
    const at = now + Math.max(0, inMs);
    if (at >= this.at) return;
    this.disarm();
    this.at = at;
    this.handle = this.timers.setTimeout(() => {
      this.handle = undefined;
      this.at = Number.POSITIVE_INFINITY;
      this.wakes++;
      this.onWake();
    }, at - now);
  }

  disarm(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this.at = Number.POSITIVE_INFINITY;
  }
}
