/**
 * The simulated Telegram, without HTTP: the bots by token, the shared clock, flood control and
 * fault injection, and a lifetime signal that ends every held poll and wait when the sim closes.
 * The HTTP server, the control API and in-process callers all work on one `Simulator`.
 */
import type { Logger } from '@botvisor/core';
import { BotState } from './bot-state.js';
import { type Clock, systemClock } from './clock.js';
import { unauthorized } from './envelope.js';
import { FaultInjector, type FaultSpec } from './faults.js';
import { FloodControl, type FloodMode, type FloodSettings } from './flood-control.js';
import { botIdOf } from './token.js';

export interface SimulatorOptions {
  /** Drives flood control, message dates and transcript timestamps; default: the system clock. */
  clock?: Clock;
  /** Flood control mode or settings; default `off`. */
  flood?: FloodMode | FloodSettings;
  /** Faults armed from the start, as if added through the control API (a reset clears them). */
  faults?: FaultSpec[];
  /** The first update_id each bot hands out; default 1. */
  firstUpdateId?: number;
  /** Where the sim reports what it does; default: nowhere. */
  logger?: Logger;
}

export class Simulator {
  readonly clock: Clock;
  readonly flood: FloodControl;
  readonly faults = new FaultInjector();
  readonly logger: Logger | undefined;
  private readonly initialFlood: FloodSettings;
  private readonly firstUpdateId: number;
  private readonly bots = new Map<string, BotState>();
  private readonly lifetime = new AbortController();

  constructor(options: SimulatorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.initialFlood = typeof options.flood === 'string' ? { mode: options.flood } : (options.flood ?? { mode: 'off' });
    this.flood = new FloodControl(this.initialFlood, this.clock);
    this.firstUpdateId = options.firstUpdateId ?? 1;
    this.logger = options.logger;
    for (const fault of options.faults ?? []) this.faults.add(fault);
  }

  /** Aborted when the sim closes: held polls, waits and injected delays end on it. */
  get closing(): AbortSignal {
    return this.lifetime.signal;
  }

  /** The bot behind `token`, created on first use; 401 for a token of the wrong shape. */
  bot(token: string): BotState {
    const known = this.bots.get(token);
    if (known !== undefined) return known;
    const botId = botIdOf(token);
    if (botId === undefined) throw unauthorized();
    const bot = new BotState(token, botId, this.firstUpdateId);
    this.bots.set(token, bot);
    this.logger?.debug('bot-api-sim: new bot', { botId });
    return bot;
  }

  allBots(): BotState[] {
    return [...this.bots.values()];
  }

  /** Every bot back to fresh, faults cleared, flood control back to its starting settings. */
  reset(): void {
    for (const bot of this.bots.values()) bot.reset();
    this.faults.clear();
    this.flood.configure(this.initialFlood);
    this.logger?.info('bot-api-sim: reset');
  }

  close(): void {
    this.lifetime.abort();
  }
}
