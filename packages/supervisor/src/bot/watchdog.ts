/**
 * The watchdog: a `ping` every interval while the bot is ready; a ping left unanswered for
 * `hungAfterMs` means the bot is hung (a busy loop, a deadlock) — the one failure a process
 * manager that only watches for exits never sees. PM2 keeps such a process "online" forever.
 *
 * It judges the bot only by time the supervisor itself was awake: silence is measured from the
 * oldest ping actually sent and not yet answered, on a monotonic clock, and a tick that comes far
 * later than its interval (the supervisor was paused: SIGSTOP, a suspended VM, a clock-stopping
 * stall) is the supervisor's own stall — the pings in flight are forgotten and judging starts
 * over from a fresh ping, so waking up never kills a bot that was answering all along.
 */
import { performance } from 'node:perf_hooks';
import type { PongMessage } from '@botvisor/core';

export interface WatchdogOptions {
  intervalMs: number;
  hungAfterMs: number;
  ping: (seq: number) => void;
  onHung: (silentForMs: number, lastPong: PongMessage | undefined) => void;
  /** The supervisor itself stalled for `gapMs` (a tick that late); nothing was judged on it. */
  onStall?: (gapMs: number) => void;
  /** A monotonic clock in ms (default performance.now). */
  now?: () => number;
}

/** A tick this much later than its interval means the supervisor stalled, not the bot. */
export function stallThresholdMs(intervalMs: number): number {
  return intervalMs * 2 + 1000;
}

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  /** Pings sent and not yet answered, oldest first. */
  private unanswered: Array<{ seq: number; sentAt: number }> = [];
  private lastTickAt = 0;
  private last: PongMessage | undefined;
  private readonly now: () => number;

  constructor(private readonly o: WatchdogOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  get lastPong(): PongMessage | undefined {
    return this.last;
  }

  start(): void {
    this.stop();
    this.unanswered = [];
    this.lastTickAt = this.now();
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref();
    this.sendPing();
  }

  onPong(pong: PongMessage): void {
    this.last = pong;
    // A pong answers its ping and every one before it (IPC keeps order).
    this.unanswered = this.unanswered.filter((p) => p.seq > pong.seq);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One tick of the interval; public for tests that drive the clock. */
  tick(): void {
    const now = this.now();
    const gap = now - this.lastTickAt;
    this.lastTickAt = now;
    if (gap > stallThresholdMs(this.o.intervalMs)) {
      // Pongs that came while we were stopped are still queued behind this timer: judge nothing.
      this.unanswered = [];
      this.o.onStall?.(gap);
      this.sendPing();
      return;
    }
    const oldest = this.unanswered[0];
    if (oldest !== undefined && now - oldest.sentAt >= this.o.hungAfterMs) {
      this.stop();
      this.o.onHung(now - oldest.sentAt, this.last);
      return;
    }
    this.sendPing();
  }

  private sendPing(): void {
    const seq = ++this.seq;
    this.unanswered.push({ seq, sentAt: this.now() });
    this.o.ping(seq);
  }
}
