/**
 * The figures a bot reports in `pong`: event-loop delay (p99 since the last pong), queue depth and
 * running jobs. A busy-looping handler shows up here before the watchdog gives up on it.
 *
 * The delay is measured with a plain timer: how late each tick of a `EVENT_LOOP_SAMPLE_MS` interval
 * fires, kept since the last pong (a pong every 5 s holds 20 numbers). perf_hooks'
 * monitorEventLoopDelay did the same with a native HDR histogram of ~0.4 MB RSS in every bot,
 * sized for nanosecond precision over an hour (issue 18).
 */
import { performance } from 'node:perf_hooks';

/**
 * The probe's sampling interval. The timer wakes the event loop this often, so a fine one
 * (10 ms was 100 wake-ups a second, ~7 ms of CPU per second in an idle bot) costs CPU all the
 * time; a block of the loop longer than this is always caught, shorter ones by chance.
 */
export const EVENT_LOOP_SAMPLE_MS = 250;

/** Samples kept between two takes at most (~17 min at 250 ms); later ones replace the smallest kept, so the high end stays. */
const MAX_SAMPLES = 4096;

export class HealthProbe {
  private readonly lateMs: number[] = [];
  private last = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.sample(), EVENT_LOOP_SAMPLE_MS);
    this.timer.unref();
  }

  /** p99 event-loop delay in ms since the previous call (nearest rank). */
  takeEventLoopDelayMs(): number {
    const samples = this.lateMs.splice(0).sort((a, b) => a - b);
    const p99 = samples.length > 0 ? (samples[Math.ceil(samples.length * 0.99) - 1] as number) : 0;
    return Math.round(p99 * 100) / 100;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const now = performance.now();
    const late = Math.max(0, now - this.last - EVENT_LOOP_SAMPLE_MS);
    this.last = now;
    if (this.lateMs.length < MAX_SAMPLES) {
      this.lateMs.push(late);
      return;
    }
    const smallest = this.lateMs.indexOf(Math.min(...this.lateMs));
    if (late > (this.lateMs[smallest] as number)) this.lateMs[smallest] = late;
  }
}
