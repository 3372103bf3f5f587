/**
 * The watchdog: a `ping` every interval while the bot is ready; no `pong` for `hungAfterMs`
 * means the bot is hung (a busy loop, a deadlock) — the one failure a process manager that only
 * watches for exits never sees. PM2 keeps such a process "online" forever.
 */
import type { PongMessage } from '@botvisor/core';

export interface WatchdogOptions {
  intervalMs: number;
  hungAfterMs: number;
  ping: (seq: number) => void;
  onHung: (silentForMs: number, lastPong: PongMessage | undefined) => void;
  now?: () => number;
}

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private lastPongAt = 0;
  private last: PongMessage | undefined;
  private readonly now: () => number;

  constructor(private readonly o: WatchdogOptions) {
    this.now = o.now ?? Date.now;
  }

  get lastPong(): PongMessage | undefined {
    return this.last;
  }

  start(): void {
    this.stop();
    this.lastPongAt = this.now();
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref();
    this.o.ping(++this.seq);
  }

  onPong(pong: PongMessage): void {
    this.lastPongAt = this.now();
    this.last = pong;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const silent = this.now() - this.lastPongAt;
    if (silent >= this.o.hungAfterMs) {
      this.stop();
      this.o.onHung(silent, this.last);
      return;
    }
    this.o.ping(++this.seq);
  }
}
