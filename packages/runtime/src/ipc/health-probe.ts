/**
 * The figures a bot reports in `pong`: event-loop delay (p99 since the last pong, from
 * perf_hooks.monitorEventLoopDelay), queue depth and running jobs. A busy-looping handler shows
 * up here before the watchdog gives up on it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * The probe's sampling interval. The histogram wakes the event loop this often, so a fine one
 * (10 ms was 100 wake-ups a second, ~7 ms of CPU per second in an idle bot) costs CPU all the
 * time; a block of the loop longer than this is always caught, shorter ones by chance.
 */
export const EVENT_LOOP_SAMPLE_MS = 250;

export class HealthProbe {
  private readonly histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });

  constructor() {
    this.histogram.enable();
  }

  /** p99 event-loop delay in ms since the previous call. */
  takeEventLoopDelayMs(): number {
    // The histogram records the time between samples, which includes the interval itself.
    const p99 = this.histogram.count > 0 ? Math.max(0, this.histogram.percentile(99) / 1e6 - EVENT_LOOP_SAMPLE_MS) : 0;
    this.histogram.reset();
    return Math.round(p99 * 100) / 100;
  }

  stop(): void {
    this.histogram.disable();
  }
}
