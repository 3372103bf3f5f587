/**
 * The public API for writing a bot: `defineBot(setup, options)`. A bot module registers its
 * handlers on a node-telegram-bot-api v2 `Bot` (command, hears, on, use, callback queries) and
 * gets the rest — lock, polling, durable inbox, ordered dispatch, limits, shutdown — from the
 * runtime, which feeds updates into the bot's middleware chain with `handleUpdate`.
 */
import type { DurableStore, FleetSummary, IpcEvent, Logger, ResolvedBot } from '@botvisor/core';
import type { Bot } from 'node-telegram-bot-api';
import type { ZodType } from 'zod';
import type { RateWindow } from './dispatch/incoming-rate-limit.js';
import type { JobPool, JobPoolOptions } from './jobs/pool/job-pool.js';
import type { Outbox, OutboxOptions } from './outbox/outbox.js';

declare module 'node-telegram-bot-api' {
  interface Context {
    /** True when this update was received before a crash or restart and may already have been seen by a handler. */
    redelivered?: boolean;
  }
}

export interface BotRuntime<S extends object> {
  /** The bot's configuration (its name, allow list, admins, commands…; the token is in `bot.api`). */
  readonly config: Readonly<ResolvedBot>;
  readonly logger: Logger;
  /** The bot's own durable state (`data/bots/<name>/state.json`), if `options.state` was given. */
  readonly state: DurableStore<S>;
  /** True when this bot polls; false when it is send-only. */
  readonly polling: boolean;
  /** A fresh process: under a supervisor by a hand-over (IPC `reload-request`: no poll gap, the running handlers finish in the old process, a new process that does not load is rolled back); run by hand, it stops gracefully and exits with code 42. */
  requestRestart(reason: string): void;
  /** Supervisor events (crashes, restarts, hangs, errored bots, conflict storms, reaped orphans), as they happen; alerts bots live on this. The first call subscribes this bot (IPC `subscribe-events`); nothing arrives without a supervisor. */
  onSupervisorEvent(handler: (event: IpcEvent) => void): void;
  /** The fleet as the supervisor sees it, or undefined without a supervisor (or if it does not answer within 3 s). */
  fleetStatus(): Promise<FleetSummary | undefined>;
  /** Registers work to run before `ready` (e.g. starting a job pool) and on shutdown. */
  addService(service: BotService): void;
  /**
   * CLI jobs: `submit` runs one of the config's `commands` (or an inline one) for a user, with a
   * bounded pool, a queue per user, a daily quota and live output in the chat; `cancel` is /stop.
   */
  readonly jobs: BotJobs;
  /** Every call of `bot.api` (so every `ctx.reply`) already goes through it; here for its figures. */
  readonly outbox: BotOutbox;
}

export type BotJobs = Pick<JobPool, 'submit' | 'cancel' | 'stopJob' | 'retry' | 'get' | 'list' | 'runningCount' | 'queuedCount'>;
export type BotOutbox = Pick<Outbox, 'stats' | 'whenIdle'>;

export interface BotService {
  name: string;
  start?(): Promise<void> | void;
  stop?(graceMs: number): Promise<void> | void;
  /** CLI jobs this service is running now (reported in `pong`). */
  runningJobs?(): number;
}

export interface StateOptions<S extends object> {
  defaults: () => S;
  schema?: ZodType<S>;
}

export interface BotOptions<S extends object> {
  state?: StateOptions<S>;
  /** Commands that skip the chat's queue. Default `/stop`, `/status`, `/cancel`. */
  priorityCommands?: string[];
  /** Chats handled at once. Default 32. */
  concurrency?: number;
  /** Per-user incoming limits. Default 30/min and 500/hour. */
  incomingLimits?: RateWindow[];
  /** Time handlers get to finish on shutdown. Default 10 s. */
  shutdownGraceMs?: number;
  /** Long-poll seconds. Default 30. */
  pollTimeoutSec?: number;
  /** The job pool: concurrency (3), queue per user (10), daily quota (100), kill grace, job environment, live output. */
  jobs?: JobPoolOptions;
  /** The outbox: rate limits (30/s, 1/s per chat, 20/min per group) and the queue bound per chat. */
  outbox?: Pick<OutboxOptions, 'limits' | 'maxQueuePerChat'>;
}

export interface BotDefinition<S extends object = Record<string, never>> {
  readonly kind: 'botvisor-bot';
  readonly options: BotOptions<S>;
  setup(bot: Bot, runtime: BotRuntime<S>): void | Promise<void>;
}

export function defineBot<S extends object = Record<string, never>>(
  setup: (bot: Bot, runtime: BotRuntime<S>) => void | Promise<void>,
  options: BotOptions<S> = {},
): BotDefinition<S> {
  return { kind: 'botvisor-bot', options, setup };
}

export function isBotDefinition(value: unknown): value is BotDefinition<object> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'botvisor-bot' && typeof (value as { setup?: unknown }).setup === 'function';
}
