/**
 * Server-sent events for the page: every connected browser gets a `state` event with the whole
 * fleet snapshot at once, every `intervalMs`, and right after each supervisor event (a crash or
 * a restart shows without waiting for the tick). One snapshot is computed per tick and shared by
 * every client; with no client connected nothing runs and no event subscription is held.
 */
import type http from 'node:http';
import type { Logger } from '@botvisor/core';
import type { DashboardState } from './dashboard-types.js';

export interface StateStreamOptions {
  snapshot: () => Promise<DashboardState>;
  /** Subscribes to supervisor events; returns the unsubscribe function. */
  onFleetEvent: (listener: () => void) => () => void;
  intervalMs: number;
  logger: Logger;
}

/** Events arrive in bursts (stopped → started → ready): one push shortly after the first is enough. */
const EVENT_DEBOUNCE_MS = 50;
const MAX_BUFFERED_BYTES = 1024 * 1024;

export class StateStream {
  private readonly clients = new Set<http.ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private pushing = false;
  private pushAgain = false;

  constructor(private readonly o: StateStreamOptions) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes over the response: headers, then a `state` event now and on every change until the browser goes away. */
  attach(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // A reverse proxy must not buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    const detach = (): void => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.idle();
    };
    req.once('close', detach);
    res.once('close', detach);
    if (this.clients.size === 1) this.wake();
    this.scheduleSoon(0);
  }

  private wake(): void {
    this.unsubscribe = this.o.onFleetEvent(() => this.scheduleSoon(EVENT_DEBOUNCE_MS));
    this.timer = setInterval(() => void this.push(), this.o.intervalMs);
    this.timer.unref();
  }

  private idle(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.timer = undefined;
    this.soon = undefined;
  }

  private scheduleSoon(ms: number): void {
    if (this.soon !== undefined) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.push();
    }, ms);
    this.soon.unref();
  }

  private async push(): Promise<void> {
    if (this.clients.size === 0) return;
    if (this.pushing) {
      this.pushAgain = true;
      return;
    }
    this.pushing = true;
    try {
      const frame = `event: state\ndata: ${JSON.stringify(await this.o.snapshot())}\n\n`;
      for (const res of this.clients) {
        // A browser may have gone while the snapshot was taken.
        if (res.destroyed || res.writableEnded) continue;
        // One that stopped reading (a phone asleep) is dropped rather than buffered without end; EventSource reconnects.
        if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
        else res.write(frame);
      }
    } catch (err) {
      this.o.logger.warning('the dashboard could not take a fleet snapshot', { err });
    } finally {
      this.pushing = false;
    }
    if (this.pushAgain) {
      this.pushAgain = false;
      this.scheduleSoon(0);
    }
  }
}
