/**
 * /metrics: Prometheus text via prom-client. Process metrics of the supervisor, plus per-bot
 * series built from what the supervisor sees (states, restarts by cause, conflicts) and from the
 * cumulative counters each bot sends in its `pong` (updates, handler durations, Bot API errors,
 * jobs, event-loop delay). A bot's counters restart at 0 with the process, so only the increase
 * since the last pong of the same process is added.
 */
import { type BotCounters, HANDLER_SECONDS_BUCKETS, type PongMessage } from '@botvisor/core';
import client from 'prom-client';
import { BOT_STATES, type BotState } from '../bot/bot-state.js';

interface SeenCounters {
  pid: number;
  counters: BotCounters;
}

/** A histogram whose buckets are summed from the bots' cumulative figures (prom-client's own Histogram only observes). */
class ForwardedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly perBot = new Map<string, { buckets: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  add(bot: string, delta: { buckets: number[]; sum: number; count: number }): void {
    const h = this.perBot.get(bot) ?? { buckets: HANDLER_SECONDS_BUCKETS.map(() => 0), sum: 0, count: 0 };
    delta.buckets.forEach((n, i) => {
      if (i < h.buckets.length) h.buckets[i] = (h.buckets[i] ?? 0) + n;
    });
    h.sum += delta.sum;
    h.count += delta.count;
    this.perBot.set(bot, h);
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> } {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const [bot, h] of this.perBot) {
      HANDLER_SECONDS_BUCKETS.forEach((le, i) => {
        values.push({ metricName: `${this.name}_bucket`, labels: { bot, le }, value: h.buckets[i] ?? 0 });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { bot, le: '+Inf' }, value: h.count });
      values.push({ metricName: `${this.name}_sum`, labels: { bot }, value: h.sum });
      values.push({ metricName: `${this.name}_count`, labels: { bot }, value: h.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class SupervisorMetrics {
  readonly registry = new client.Registry();
  private readonly seen = new Map<string, SeenCounters>();
  private readonly restarts: client.Counter;
  private readonly updates: client.Counter;
  private readonly telegramErrors: client.Counter;
  private readonly conflicts: client.Counter;
  private readonly jobsRunning: client.Gauge;
  private readonly jobsQueued: client.Gauge;
  private readonly loopDelay: client.Gauge;
  private readonly handlerSeconds = new ForwardedHistogram('botvisor_handler_seconds', 'Time handlers took per update, in seconds.');

  constructor(states: () => Array<{ name: string; state: BotState }>) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    // Set on every scrape from the bots' current states.
    new client.Gauge({
      name: 'botvisor_bot_state',
      help: 'The state of each bot: 1 for its current state, 0 for the others.',
      labelNames: ['bot', 'state'],
      registers,
      collect() {
        for (const b of states()) for (const s of BOT_STATES) this.set({ bot: b.name, state: s }, b.state === s ? 1 : 0);
      },
    });
    this.restarts = new client.Counter({ name: 'botvisor_restarts_total', help: 'Restarts of each bot, by cause.', labelNames: ['bot', 'cause'], registers });
    this.updates = new client.Counter({ name: 'botvisor_updates_total', help: 'Updates handled by each bot.', labelNames: ['bot'], registers });
    this.telegramErrors = new client.Counter({ name: 'botvisor_telegram_errors_total', help: 'Bot API error answers seen by each bot, by code.', labelNames: ['bot', 'code'], registers });
    this.conflicts = new client.Counter({ name: 'botvisor_conflicts_total', help: '409 Conflicts seen by each polling bot (another process polls its token).', labelNames: ['bot'], registers });
    this.jobsRunning = new client.Gauge({ name: 'botvisor_jobs_running', help: 'CLI jobs running in each bot.', labelNames: ['bot'], registers });
    this.jobsQueued = new client.Gauge({ name: 'botvisor_jobs_queued', help: 'CLI jobs queued in each bot.', labelNames: ['bot'], registers });
    this.loopDelay = new client.Gauge({ name: 'botvisor_event_loop_delay_seconds', help: 'p99 event-loop delay of each bot since its previous pong.', labelNames: ['bot'], registers });
    this.registry.registerMetric(this.handlerSeconds as unknown as client.Metric);
  }

  onRestart(bot: string, cause: string): void {
    this.restarts.inc({ bot, cause });
  }

  onConflict(bot: string): void {
    this.conflicts.inc({ bot });
  }

  onPong(bot: string, pid: number, pong: PongMessage): void {
    this.jobsRunning.set({ bot }, pong.runningJobs);
    this.loopDelay.set({ bot }, pong.eventLoopDelayMs / 1000);
    const now = pong.counters;
    if (now === undefined) return;
    this.jobsQueued.set({ bot }, now.jobsQueued);
    const before = this.seen.get(bot);
    const base = before !== undefined && before.pid === pid ? before.counters : undefined;
    this.seen.set(bot, { pid, counters: now });
    const d = (a: number, b: number | undefined) => Math.max(0, a - (b ?? 0));
    this.updates.inc({ bot }, d(now.updates, base?.updates));
    for (const [code, n] of Object.entries(now.telegramErrors)) {
      const inc = d(n, base?.telegramErrors[code]);
      if (inc > 0) this.telegramErrors.inc({ bot, code }, inc);
    }
    this.handlerSeconds.add(bot, {
      buckets: now.handlerSeconds.buckets.map((n, i) => d(n, base?.handlerSeconds.buckets[i])),
      sum: Math.max(0, now.handlerSeconds.sum - (base?.handlerSeconds.sum ?? 0)),
      count: d(now.handlerSeconds.count, base?.handlerSeconds.count),
    });
  }

  /** A bot's latest cumulative counters, with the pid of the process that sent them (the dashboard's history). */
  latestCounters(bot: string): { pid: number; counters: BotCounters } | undefined {
    return this.seen.get(bot);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
