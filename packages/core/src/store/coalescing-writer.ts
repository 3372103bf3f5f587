/**
 * Serializes and coalesces writes: `schedule()` says "the data changed", and at most one write
 * runs at a time; every change made while a write runs is carried by the next one, however many
 * there were. `flush()` resolves once everything scheduled before the call is on disk. The writer
 * knows nothing of files: it calls the `write` it was given, which must capture the data
 * synchronously when called (before its first await).
 */
export interface CoalescingWriterOptions {
  /** Writes the current data. Called with at most one call in flight. */
  write: () => Promise<void>;
  /** Told about every failed write, awaited by someone or not (a background write has nobody else to tell). */
  onWriteError?: (err: unknown) => void;
}

interface FlushWaiter {
  /** The change generation this waiter needs on disk. */
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class CoalescingWriter {
  /** Generation of the latest change; bumped by every `schedule()`. */
  private requested = 0;
  /** Generation known to be on disk. */
  private written = 0;
  private running = false;
  private kickQueued = false;
  private waiters: FlushWaiter[] = [];

  constructor(private readonly options: CoalescingWriterOptions) {}

  /** True while some change is not yet on disk. */
  get pending(): boolean {
    return this.written < this.requested;
  }

  /** Notes a change and makes sure a write will carry it. */
  schedule(): void {
    this.requested += 1;
    this.kick();
  }

  /**
   * Resolves once every change scheduled before this call is on disk; rejects if the write that
   * should have carried them failed (the changes stay pending and the next write retries them).
   */
  flush(): Promise<void> {
    const target = this.requested;
    if (this.written >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      this.kick();
    });
  }

  /**
   * Starts the write loop on a microtask rather than at once, so that all the changes made by
   * the current synchronous stretch of code (a burst of updates) go out in one write.
   */
  private kick(): void {
    if (this.running || this.kickQueued) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.written < this.requested) {
        // Read the generation and start the write in one synchronous step: the write captures
        // the data as of exactly this generation.
        const target = this.requested;
        try {
          await this.options.write();
        } catch (err) {
          this.failWaiters(err);
          this.options.onWriteError?.(err);
          return;
        }
        this.written = target;
        this.settleWaiters();
      }
    } finally {
      this.running = false;
    }
  }

  private settleWaiters(): void {
    const still: FlushWaiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.target <= this.written) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }

  /** A failed write leaves every pending change unwritten, so every waiter fails with it. */
  private failWaiters(err: unknown): void {
    const failed = this.waiters;
    this.waiters = [];
    for (const waiter of failed) waiter.reject(err);
  }
}
