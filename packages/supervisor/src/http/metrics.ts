/**
 * /metrics: Prometheus text via prom-client. Process metrics of the supervisor, plus per-bot
 * series built from what the supervisor sees (states, restarts by cause, conflicts) and from the
 * cumulative counters each bot sends in its `pong` (updates, handler durations, Bot API errors,
 * jobs, event-loop delay). A bot's counters restart at 0 with the process, so only the increase
 * since the last pong of the same process is added.
 *
 * The series are counted from the start in plain numbers (tally-metric.ts); prom-client (with
 * OpenTelemetry's API, ~160 modules and ~8 MB of the supervisor's RSS) is loaded on the first
 * scrape, when its registry is built with the process metrics and these series.
 */
import { type BotCounters, HANDLER_SECONDS_BUCKETS, type PongMessage } from '@botvisor/core';
import type { Metric, Registry } from 'prom-client';
import { BOT_STATES, type BotState } from '../bot/bot-state.js';
import { TallyMetric } from './tally-metric.js';

/** prom-client's `Registry.PROMETHEUS_CONTENT_TYPE`, the registry's default. */
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

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
  private registry: Promise<Registry> | undefined;
  private readonly seen = new Map<string, SeenCounters>();
  private readonly series: TallyMetric[];
  private readonly restarts = new TallyMetric('botvisor_restarts_total', 'Restarts of each bot, by cause.', 'counter');
  private readonly updates = new TallyMetric('botvisor_updates_total', 'Updates handled by each bot.', 'counter');
  private readonly telegramErrors = new TallyMetric('botvisor_telegram_errors_total', 'Bot API error answers seen by each bot, by code.', 'counter');
  private readonly conflicts = new TallyMetric('botvisor_conflicts_total', '409 Conflicts seen by each polling bot (another process polls its token).', 'counter');
  private readonly jobsRunning = new TallyMetric('botvisor_jobs_running', 'CLI jobs running in each bot.', 'gauge');
  private readonly jobsQueued = new TallyMetric('botvisor_jobs_queued', 'CLI jobs queued in each bot.', 'gauge');
  private readonly loopDelay = new TallyMetric('botvisor_event_loop_delay_seconds', 'p99 event-loop delay of each bot since its previous pong.', 'gauge');
  private readonly handlerSeconds = new ForwardedHistogram('botvisor_handler_seconds', 'Time handlers took per update, in seconds.');

  constructor(states: () => Array<{ name: string; state: BotState }>) {
    // Set on every scrape from the bots' current states.
    const botState = new TallyMetric('botvisor_bot_state', 'The state of each bot: 1 for its current state, 0 for the others.', 'gauge', (m) => {
      for (const b of states()) for (const s of BOT_STATES) m.set({ bot: b.name, state: s }, b.state === s ? 1 : 0);
    });
    this.series = [botState, this.restarts, this.updates, this.telegramErrors, this.conflicts, this.jobsRunning, this.jobsQueued, this.loopDelay];
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

  async text(): Promise<string> {
    this.registry ??= this.buildRegistry();
    // prom-client writes a NaN sample as `Nan`; the text format says `NaN`. Until the event-loop
    // monitor (started with the registry, at the first scrape) has a sample, its mean is NaN.
    return (await (await this.registry).metrics()).replace(/ Nan$/gm, ' NaN');
  }

  private async buildRegistry(): Promise<Registry> {
    const { default: client } = await import('prom-client');
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry });
    for (const m of [...this.series, this.handlerSeconds]) registry.registerMetric(m as unknown as Metric);
    return registry;
  }

  get contentType(): string {
    return PROMETHEUS_CONTENT_TYPE;
  }
}
