/**
 * When an errored bot is tried again. Errored is not the end: a full disk gets space back, a
 * read-only file system is remounted, a token file gets fixed. So an errored bot is tried again
 * every `everyMs` (default 5 min), and at once when its cause is seen to be gone where that can be
 * told: a data folder that refused a write when the bot errored is probed every `probeEveryMs`
 * (~10 s), and the first write it takes retries the bot. Timers and the probe are injected.
 */
import type { ProbeFailure } from './data-dir-probe.js';

export interface ErroredRetryOptions {
  everyMs: number;
  probeEveryMs: number;
  /** Probes the bot's data folder: undefined when it takes a write. */
  probe: () => ProbeFailure | undefined;
  /** Tries the bot again; `why` says what made it. */
  retry: (why: string) => void;
}

export class ErroredRetry {
  private readonly timers: NodeJS.Timeout[] = [];
  private done = false;
  /** Why the data folder refused a write when the bot errored; undefined if it did not. */
  readonly dataDirFailure: ProbeFailure | undefined;

  constructor(private readonly o: ErroredRetryOptions) {
    this.dataDirFailure = o.probe();
    this.timers.push(setTimeout(() => this.fire(`it has been errored for ${Math.round(o.everyMs / 1000)} s`), o.everyMs));
    if (this.dataDirFailure !== undefined) {
      this.timers.push(
        setInterval(() => {
          if (o.probe() === undefined) this.fire('its data folder takes writes again');
        }, o.probeEveryMs),
      );
    }
    for (const t of this.timers) t.unref();
  }

  /** The bot left errored some other way (a person's restart or stop): no retry. */
  cancel(): void {
    this.done = true;
    for (const t of this.timers) clearTimeout(t);
  }

  private fire(why: string): void {
    if (this.done) return;
    this.cancel();
    this.o.retry(why);
  }
}
