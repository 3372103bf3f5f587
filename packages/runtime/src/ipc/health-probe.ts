/**
 * The figures a bot reports in `pong`: event-loop delay (p99 since the last pong, from
 * perf_hooks.monitorEventLoopDelay), queue depth and running jobs. A busy-looping handler shows
 * up here before the watchdog gives up on it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export class HealthProbe {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.histogram.enable();
  }

  /** p99 event-loop delay in ms since the previous call. */
  takeEventLoopDelayMs(): number {
    const p99 = this.histogram.count > 0 ? this.histogram.percentile(99) / 1e6 : 0;
    this.histogram.reset();
    return Math.round(p99 * 100) / 100;
  }

  stop(): void {
    this.histogram.disable();
  }
}
