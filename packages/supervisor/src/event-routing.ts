/**
 * Where events go. Every supervisor event reaches the bots whose current process subscribed
 * (sent `subscribe-events`); a subscription ends with its process, so a restarted bot hears
 * nothing until it subscribes again. Every event a bot reports (a 409 conflict) reaches the
 * metrics, where a burst of them becomes one conflict-storm event.
 */
import type { IpcEvent } from '@botvisor/core';
import type { ManagedBot } from './bot/managed-bot.js';
import { ConflictStormDetector } from './conflict-storm.js';
import type { EventStream } from './events.js';
import type { SupervisorMetrics } from './http/metrics.js';

export class EventRouter {
  constructor(
    private readonly events: EventStream,
    private readonly metrics: SupervisorMetrics,
    private readonly storms = new ConflictStormDetector(),
  ) {}

  /** Delivers every supervisor event to each of `bots()` that subscribed; returns the function that ends it. */
  deliverTo(bots: () => Iterable<ManagedBot>): () => void {
    return this.events.subscribe((event) => {
      for (const bot of bots()) bot.deliver(event);
    });
  }

  /** The handler for the events bot `name` reports. */
  fromBot(name: string): (event: IpcEvent) => void {
    return (event) => {
      if (event.kind !== 'conflict') return;
      this.metrics.onConflict(name);
      const count = this.storms.record(name);
      if (count !== undefined) this.events.emit('conflict-storm', `bot ${name}: ${count} 409 Conflicts within a minute — another process is polling its token`, name, { conflicts: count });
    };
  }
}
