/**
 * Watches a job's deadlines — the total timeout, the idle timeout (no output for N ms). The first
 * to expire fires once, through `onExpire`; nothing fires after `stop()`.
 *
 * The idle timeout never races with new output: it is measured from the last output, not armed
 * once. When its timer fires, it re-checks the last activity and re-arms for the remainder if
 * output came meanwhile. Before it gives up it looks once more after one turn of the event loop
 * (`setImmediate` runs after the I/O poll phase): output that was already in the pipe when the
 * timer fired is read in that poll phase and counts, so "activity right before the deadline"
 * always keeps the job alive.
 */

export type DeadlineKind = 'total' | 'idle';

export interface DeadlineTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `fn` after pending I/O has been read. */
  afterIo(fn: () => void): void;
}

export const realTimers: DeadlineTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  afterIo: (fn) => void setImmediate(fn),
};

export interface DeadlineOptions {
  timeoutMs?: number;
  idleTimeoutMs?: number;
  onExpire: (kind: DeadlineKind) => void;
  timers?: DeadlineTimers;
}

export class JobDeadlines {
  private readonly timers: DeadlineTimers;
  private lastActivity: number;
  private totalTimer: unknown;
  private idleTimer: unknown;
  private done = false;

  constructor(private readonly options: DeadlineOptions) {
    this.timers = options.timers ?? realTimers;
    this.lastActivity = this.timers.now();
    const { timeoutMs, idleTimeoutMs } = options;
    if (timeoutMs !== undefined && timeoutMs > 0) this.totalTimer = this.timers.setTimeout(() => this.expire('total'), timeoutMs);
    if (idleTimeoutMs !== undefined && idleTimeoutMs > 0) this.armIdle(idleTimeoutMs);
  }

  /** The job printed something. Cheap: it only records the time. */
  activity(): void {
    this.lastActivity = this.timers.now();
  }

  stop(): void {
    this.done = true;
    if (this.totalTimer !== undefined) this.timers.clearTimeout(this.totalTimer);
    if (this.idleTimer !== undefined) this.timers.clearTimeout(this.idleTimer);
  }

  private armIdle(inMs: number): void {
    this.idleTimer = this.timers.setTimeout(() => this.checkIdle(), Math.max(1, inMs));
  }

  private remainingIdle(): number {
    return (this.options.idleTimeoutMs as number) - (this.timers.now() - this.lastActivity);
  }

  private checkIdle(): void {
    if (this.done) return;
    const remaining = this.remainingIdle();
    if (remaining > 0) {
      this.armIdle(remaining);
      return;
    }
    // Looks idle: read whatever is already in the pipe first, then decide.
    this.timers.afterIo(() => {
      if (this.done) return;
      const left = this.remainingIdle();
      if (left > 0) this.armIdle(left);
      else this.expire('idle');
    });
  }

  private expire(kind: DeadlineKind): void {
    if (this.done) return;
    this.stop();
    this.options.onExpire(kind);
  }
}
