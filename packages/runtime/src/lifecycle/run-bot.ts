/**
 * A bot process from start to exit. Start-up in this order, and only then IPC `ready` and the
 * dispatch barrier opens: store opened → lock handshake → bot setup → deleteWebhook → getMe →
 * (polling begins, into the inbox) → services (job pool) started. Shutdown (SIGTERM, SIGINT, IPC shutdown, IPC disconnect, /restart)
 * runs once, in reverse: stop polling → let handlers finish (grace) → stop services → flush and
 * close the stores → release the lock → exit 0 (or 42 for a restart).
 */
import path from 'node:path';
import { ConfigError, createLogger, type DurableStore, LockHeldError, type Logger, openStore, type ResolvedBot, type ResolvedConfig, redact, SKIP_TELEGRAM_LOCK_VAR } from '@botvisor/core';
import { Api, Bot } from 'node-telegram-bot-api';
import type { BotDefinition, BotRuntime, BotService } from '../define-bot.js';
import { Authorizer } from '../dispatch/authorize.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { IncomingRateLimit } from '../dispatch/incoming-rate-limit.js';
import { priorityMatcher } from '../dispatch/priority.js';
import { createUpdatePipeline, POISON_UPDATE_TEXT } from '../dispatch/update-pipeline.js';
import { chatIdOf, orderingKeyOf } from '../dispatch/update-shape.js';
import { Inbox } from '../inbox/inbox.js';
import { BotCountersCollector } from '../ipc/bot-counters.js';
import { HealthProbe } from '../ipc/health-probe.js';
import { SupervisorLink } from '../ipc/supervisor-link.js';
import { JobBook } from '../jobs/pool/job-book.js';
import { JobPool } from '../jobs/pool/job-pool.js';
import { emptyJobsFile, type JobsFile, jobsFileSchema } from '../jobs/pool/job-record.js';
import { retryButtonHandler } from '../jobs/pool/retry-button.js';
import { createOutboxApi, installApi } from '../outbox/routed-api.js';
import { isBadTokenError } from '../polling/error-policy.js';
import { PollLoop } from '../polling/poll-loop.js';
import { installCrashHandlers } from './crash-handlers.js';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_RESTART } from './exit-codes.js';
import { LockRefusedError, lockHandshake, type PollingMode } from './lock-handshake.js';
import { StartupError, step } from './startup-step.js';

export interface RunBotOptions {
  definition: BotDefinition<object>;
  config: ResolvedConfig;
  bot: ResolvedBot;
  env?: NodeJS.ProcessEnv;
  /** Console output of the logger; default 'auto' (only on a TTY). */
  console?: 'auto' | 'always' | 'never';
}

function exitCodeFor(err: unknown): number {
  if (isBadTokenError(err) || err instanceof ConfigError) return EXIT_CONFIG;
  return EXIT_FAILURE;
}

function describeStartupFailure(err: unknown): string {
  if (err instanceof StartupError && isBadTokenError(err.cause)) return `${err.message} — the Bot API refused the token; check it with @BotFather and fix the config`;
  return err instanceof Error ? err.message : String(err);
}

export async function runBot(options: RunBotOptions): Promise<void> {
  const { definition, config, bot: botConfig } = options;
  const env = options.env ?? process.env;
  const logger = createLogger({ proc: botConfig.name, logDir: config.logDir, console: options.console ?? 'auto' });
  const botDir = path.join(config.dataDir, 'bots', botConfig.name);
  const backupDir = path.join(config.dataDir, 'backups', botConfig.name);
  const link = new SupervisorLink(process, logger);
  const probe = new HealthProbe();
  const counters = new BotCountersCollector();
  let queuedJobs = (): number => 0;
  const services: BotService[] = [];
  const grace = definition.options.shutdownGraceMs ?? 10_000;

  let inbox: Inbox | undefined;
  let state: DurableStore<object> | undefined;
  let jobsStore: DurableStore<JobsFile> | undefined;
  let mode: PollingMode | undefined;
  let pollLoop: PollLoop | undefined;
  let dispatcher: Dispatcher | undefined;
  let exiting: Promise<never> | undefined;

  const exit = (code: number, why: string): Promise<never> => {
    exiting ??= (async () => {
      const force = setTimeout(() => process.exit(code === EXIT_OK ? EXIT_FAILURE : code), grace + 5000);
      logger.info('stopping', { why, exitCode: code });
      try {
        await pollLoop?.stop();
        const finished = (await dispatcher?.stop(grace)) ?? true;
        if (!finished) logger.warning('handlers still running after the grace period; their updates stay in the inbox', { graceMs: grace });
        for (const s of [...services].reverse()) await s.stop?.(grace);
        await inbox?.close();
        await state?.close();
        await jobsStore?.close();
        if (mode?.polling === true) await mode.lock?.release();
      } catch (err) {
        logger.error('shutdown step failed', { err });
        code = code === EXIT_OK ? EXIT_FAILURE : code;
      }
      probe.stop();
      logger.info('stopped', { exitCode: code });
      await logger.close();
      clearTimeout(force);
      process.exit(code);
    })();
    return exiting;
  };

  installCrashHandlers(logger, (code) => exit(code, 'crash'));
  process.once('SIGTERM', () => void exit(EXIT_OK, 'SIGTERM'));
  process.once('SIGINT', () => void exit(EXIT_OK, 'SIGINT'));
  link.on('shutdown', (m) => void exit(EXIT_OK, `supervisor asked: ${m.reason ?? 'shutdown'}`));
  link.onDisconnect(() => void exit(EXIT_OK, 'the supervisor is gone (IPC disconnected)'));
  link.on('ping', (m) => {
    link.send({
      type: 'pong',
      seq: m.seq,
      eventLoopDelayMs: probe.takeEventLoopDelayMs(),
      queueDepth: dispatcher?.queued ?? 0,
      runningJobs: services.reduce((n, s) => n + (s.runningJobs?.() ?? 0), 0),
      counters: counters.snapshot(queuedJobs()),
    });
  });

  try {
    inbox = await step('store opened', () => Inbox.open({ botDir, backupDir, logger }), exitCodeFor);
    const stateOptions = definition.options.state;
    state = await step(
      'store opened',
      () =>
        openStore<object>({
          file: path.join(botDir, 'state.json'),
          defaults: stateOptions?.defaults ?? (() => ({})),
          ...(stateOptions?.schema !== undefined ? { schema: stateOptions.schema } : {}),
          logger,
          backupDir,
          role: 'bot',
        }),
      exitCodeFor,
    );
    // Job records live in their own file: independent of the bot's state schema, and their own
    // corruption domain (see jobs/pool/job-record.ts).
    jobsStore = await step(
      'store opened',
      () => openStore<JobsFile>({ file: path.join(botDir, 'jobs.json'), defaults: emptyJobsFile, schema: jobsFileSchema, logger, backupDir, role: 'bot' }),
      exitCodeFor,
    );

    // The supervisor sends hello right after fork; it matters when it holds the lock for us.
    const hello = env[SKIP_TELEGRAM_LOCK_VAR] === '1' && link.connected ? await link.waitForHello(5000) : undefined;
    mode = await step(
      'lock handshake',
      () =>
        lockHandshake({
          botName: botConfig.name,
          token: botConfig.token,
          dataDir: config.dataDir,
          configuredToPoll: botConfig.polling,
          auxiliary: botConfig.auxiliary,
          skipTelegramLock: env[SKIP_TELEGRAM_LOCK_VAR] === '1',
          hello,
          logger,
          onCompromised: () => void exit(EXIT_FAILURE, 'the polling lock was compromised; stop polling'),
        }),
      (err) => (err instanceof LockRefusedError || err instanceof LockHeldError ? EXIT_FAILURE : exitCodeFor(err)),
    );
    logger.info(mode.polling ? 'polling' : 'send-only', { why: mode.why });

    // Every call of bot.api — ctx.reply included — goes through the outbox (rate limits, 429s,
    // splitting, the duplicate-send policy); see outbox/routed-api.ts.
    const { api, outbox } = createOutboxApi(botConfig.token, { apiRoot: config.apiRoot, timeoutMs: 120_000 }, { logger, onApiError: (code) => counters.apiError(code), ...definition.options.outbox });
    const bot = new Bot(botConfig.token, { apiRoot: config.apiRoot, maxRetries: 0 });
    installApi(bot, api);
    const pool = new JobPool(
      {
        book: new JobBook(jobsStore),
        api,
        commands: botConfig.commands,
        admins: botConfig.admins,
        spoolDir: path.join(botDir, 'tmp'),
        logger,
        report: (message) => void link.send(message),
      },
      definition.options.jobs,
    );
    // Stopped in reverse order: the bot's own services, then the pool (its last words), then the outbox.
    services.push({ name: 'outbox', stop: (g) => outbox.stop(Math.min(g, 3000)) });
    services.push({ name: 'job pool', start: () => pool.start(), stop: (g) => pool.stop(g), runningJobs: () => pool.runningCount });
    queuedJobs = () => pool.queuedCount;
    bot.catch((err) => {
      throw err; // our pipeline's error boundary logs it with the update id
    });
    const meta = new WeakMap<object, boolean>();
    bot.use((ctx, next) => {
      ctx.redelivered = meta.get(ctx.update) ?? false;
      ctx.state.redelivered = ctx.redelivered;
      return next();
    });
    bot.on('callback_query', retryButtonHandler(pool, api)); // the pool's Retry buttons work whatever the bot registers
    const runtime: BotRuntime<object> = {
      config: botConfig,
      logger,
      state,
      polling: mode.polling,
      requestRestart: (reason) => void exit(EXIT_RESTART, `restart requested: ${reason}`),
      onSupervisorEvent: (handler) => {
        link.on('event', (m) => handler(m.event));
        link.send({ type: 'subscribe-events' }); // the supervisor sends events only to bots that subscribed
      },
      fleetStatus: () => link.fleetStatus(),
      addService: (s) => void services.push(s),
      jobs: pool,
      outbox,
    };
    await step('bot setup', () => definition.setup(bot, runtime), exitCodeFor);

    const pipeline = createUpdatePipeline({
      logger,
      authorizer: new Authorizer(botConfig.allow),
      rateLimit: new IncomingRateLimit(definition.options.incomingLimits),
      runHandlers: (item) => {
        meta.set(item.update, item.redelivered);
        return bot.handleUpdate(item.update);
      },
      notify: async (chatId, text) => void (await bot.api.sendMessage({ chat_id: chatId, text })),
      onHandled: (outcome, _update, ms) => {
        if (outcome !== 'skipped') counters.handled(outcome, ms / 1000);
      },
    });
    const box = inbox;
    dispatcher = new Dispatcher({
      concurrency: definition.options.concurrency ?? 32,
      handle: pipeline,
      isPriority: priorityMatcher(definition.options.priorityCommands),
      onStart: (item) => box.markStarted(item.update.update_id),
      onSettled: (item) => box.settle(item.update.update_id),
    });
    const recovery = await inbox.recover(orderingKeyOf);
    const recovered = recovery.updates;
    if (recovered.length > 0) logger.warning('handing out updates left in the inbox by the previous run', { count: recovered.length, redelivered: recovered.filter((r) => r.redelivered).length });
    for (const r of recovered) dispatcher.enqueue(r);

    const pollApi = new Api(botConfig.token, { apiRoot: config.apiRoot, maxRetries: 0, timeoutMs: ((definition.options.pollTimeoutSec ?? 30) + 15) * 1000 });
    if (mode.polling) await step('deleteWebhook', () => pollApi.deleteWebhook({ drop_pending_updates: false }), exitCodeFor);
    const me = await step('getMe', () => bot.api.getMe(), exitCodeFor);

    // Polling starts now, so updates flow into the durable inbox while services start; the
    // dispatch barrier keeps them waiting until ready.
    if (mode.polling) {
      const d = dispatcher;
      pollLoop = new PollLoop({
        api: pollApi,
        inbox,
        logger,
        timeoutSec: definition.options.pollTimeoutSec ?? 30,
        deliver: (updates) => {
          for (const update of updates) d.enqueue({ update, redelivered: false });
        },
        onConflict: (report) =>
          link.send({ type: 'event', event: { kind: 'conflict', bot: botConfig.name, at: new Date().toISOString(), message: `409 Conflict (${report.consecutive} in a row)`, data: { ...report } } }),
        onBadToken: () => void exit(EXIT_CONFIG, 'the Bot API refused the token'),
        onApiError: (code) => counters.apiError(code),
      });
      void pollLoop.start().catch((err: unknown) => {
        logger.error('the polling loop failed', { err });
        void exit(EXIT_FAILURE, 'polling loop failed');
      });
    }
    for (const s of services) await step(`${s.name} started`, async () => s.start?.(), exitCodeFor);
    for (const q of recovery.quarantined) {
      logger.error('skipped a poison update: the bot crashed or hung every time it handled it', { updateId: q.update.update_id, crashes: q.crashes });
      const chat = chatIdOf(q.update);
      if (chat !== undefined) void bot.api.sendMessage({ chat_id: chat, text: POISON_UPDATE_TEXT }).catch((err: unknown) => logger.warning('could not send a notice', { chatId: chat, err }));
    }
    // Ready first: a handler may run synchronously the moment dispatch opens.
    link.send({ type: 'ready', ...(me.username !== undefined ? { username: me.username } : {}) });
    logger.info('ready', { username: me.username, polling: mode.polling });
    dispatcher.open();
  } catch (err) {
    const code = err instanceof StartupError ? err.exitCode : EXIT_FAILURE;
    const message = describeStartupFailure(err);
    logger.error(message, { err });
    process.stderr.write(redact(`botvisor bot "${botConfig.name}": ${message}\n`));
    await exit(code, 'start-up failed');
  }
}

export type { Logger };
