/**
 * The last hour of each bot, for the dashboard's charts: every `sampleMs` (default 10 s) one
 * sample per bot — updates/s and handler latency p50/p99 over the interval (from the cumulative
 * counters of the bot's pongs), RSS and CPU of its process tree, restarts so far, whether it had a
 * problem — kept in a ring of `keep` samples (default 360: one hour). Memory is bounded: bots ×
 * `keep` samples of eight numbers, about 25 KB per bot at the defaults.
 *
 * It reads what the supervisor already has (injected); it never asks a bot anything.
 */
import type { BotCounters, Logger } from '@botvisor/core';
import { histogramQuantileMs } from './histogram-quantile.js';
import { SampleRing } from './sample-ring.js';

export interface BotReading {
  name: string;
  restarts: number;
  problem: string | null;
  cpu: number;
  memoryBytes: number;
  pid: number | null;
}

export interface HistoryDeps {
  /** Every bot now, with its tree's resource usage. */
  read: () => Promise<BotReading[]>;
  /** The latest cumulative counters of a bot's process, with that process's pid. */
  counters: (bot: string) => { pid: number; counters: BotCounters } | undefined;
  logger: Logger;
  now?: () => number;
}

export interface HistoryOptions {
  sampleMs?: number;
  keep?: number;
}

export interface HistorySample {
  /** Unix time in seconds (uPlot's x axis). */
  t: number;
  updatesPerSec: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  rssBytes: number | null;
  cpu: number | null;
  restarts: number;
  /** 1 while the bot had a problem, else 0. */
  problem: number;
}

/** One bot's samples as columns, oldest first: the shape uPlot draws. */
export interface HistorySeries {
  t: number[];
  updatesPerSec: Array<number | null>;
  p50Ms: Array<number | null>;
  p99Ms: Array<number | null>;
  rssBytes: Array<number | null>;
  cpu: Array<number | null>;
  restarts: number[];
  problem: number[];
}

export interface HistorySnapshot {
  sampleMs: number;
  keep: number;
  bots: Record<string, HistorySeries>;
}

interface Baseline {
  pid: number;
  counters: BotCounters;
  at: number;
}

export class BotHistory {
  readonly sampleMs: number;
  readonly keep: number;
  private readonly rings = new Map<string, SampleRing<HistorySample>>();
  private readonly baselines = new Map<string, Baseline>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(
    private readonly deps: HistoryDeps,
    o: HistoryOptions = {},
  ) {
    this.sampleMs = o.sampleMs ?? 10_000;
    this.keep = o.keep ?? 360;
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.sample(), this.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample of every bot (the timer calls it; tests may too). */
  async sample(): Promise<void> {
    if (this.sampling) return; // a slow process table: skip a beat rather than pile up
    this.sampling = true;
    try {
      const at = this.now();
      for (const bot of await this.deps.read()) this.ringOf(bot.name).push(this.sampleOf(bot, at));
    } catch (err) {
      this.deps.logger.warning('could not sample the bots for the dashboard history', { err });
    } finally {
      this.sampling = false;
    }
  }

  snapshot(): HistorySnapshot {
    const bots: Record<string, HistorySeries> = {};
    for (const [name, ring] of this.rings) {
      const samples = ring.toArray();
      bots[name] = {
        t: samples.map((s) => s.t),
        updatesPerSec: samples.map((s) => s.updatesPerSec),
        p50Ms: samples.map((s) => s.p50Ms),
        p99Ms: samples.map((s) => s.p99Ms),
        rssBytes: samples.map((s) => s.rssBytes),
        cpu: samples.map((s) => s.cpu),
        restarts: samples.map((s) => s.restarts),
        problem: samples.map((s) => s.problem),
      };
    }
    return { sampleMs: this.sampleMs, keep: this.keep, bots };
  }

  private ringOf(name: string): SampleRing<HistorySample> {
    let ring = this.rings.get(name);
    if (ring === undefined) {
      ring = new SampleRing(this.keep);
      this.rings.set(name, ring);
    }
    return ring;
  }

  private sampleOf(bot: BotReading, at: number): HistorySample {
    const running = bot.pid !== null;
    const base = { t: Math.round(at / 1000), rssBytes: running ? bot.memoryBytes : null, cpu: running ? bot.cpu : null, restarts: bot.restarts, problem: bot.problem !== null ? 1 : 0 };
    const latest = this.deps.counters(bot.name);
    const before = this.baselines.get(bot.name);
    if (latest !== undefined) this.baselines.set(bot.name, { pid: latest.pid, counters: latest.counters, at });
    // No interval to measure yet, or the process is gone: nothing to say about throughput.
    if (latest === undefined || before === undefined || !running || latest.pid !== bot.pid) return { ...base, updatesPerSec: null, p50Ms: null, p99Ms: null };
    // A new process counts from 0: its whole count is the interval's.
    const from = before.pid === latest.pid ? before.counters : undefined;
    const seconds = Math.max(0.001, (at - before.at) / 1000);
    const d = (a: number, b: number | undefined) => Math.max(0, a - (b ?? 0));
    const handled = latest.counters.handlerSeconds;
    const buckets = handled.buckets.map((n, i) => d(n, from?.handlerSeconds.buckets[i]));
    const count = d(handled.count, from?.handlerSeconds.count);
    return {
      ...base,
      updatesPerSec: d(latest.counters.updates, from?.updates) / seconds,
      p50Ms: histogramQuantileMs(0.5, buckets, count),
      p99Ms: histogramQuantileMs(0.99, buckets, count),
    };
  }
}
