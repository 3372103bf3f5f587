/**
 * A bot process from start to exit, as named steps. Start-up, in this order, and only then IPC
 * `ready` and the dispatch barrier opens: (a reload's standby, lifecycle/standby.ts) → hello (cluster mode: the
 * shared database, the lease epoch, the node) → store opened → lock handshake → bot setup →
 * deleteWebhook → getMe → (polling begins, into the inbox) → services (job pool) started. Each
 * step pushes the closer of what it opened onto the shutdown stack (lifecycle/shutdown.ts), which
 * runs once, in reverse, whatever asks for it (SIGTERM, SIGINT, IPC shutdown, IPC disconnect,
 * /restart, a crash): stop polling → let handlers finish (grace) → stop services → close the
 * stores → release the lock → exit 0 (or 42 for a restart). The update path itself is
 * pipeline.ts. The stores are files on one machine; in cluster mode the inbox, state and job
 * records are rows in PostgreSQL, every write fenced by the hello's epoch (a refused one stops the bot).
 */
import path from 'node:path';
import { ConfigError, createLogger, type DurableStore, LockHeldError, type Logger, makePrivateDir, openStore, REASON_LINE_PREFIX, type ResolvedBot, type ResolvedConfig, redact, registerPostgresSecret, SKIP_TELEGRAM_LOCK_VAR } from '@botvisor/core';
import { Api, Bot } from 'node-telegram-bot-api';
import type { DocumentDatabase } from '../cluster/document-database.js';
import { InboxFencedError } from '../cluster/lease-fenced-error.js';
import type { BotDefinition, BotRuntime, BotService } from '../define-bot.js';
import { Inbox } from '../inbox/inbox.js';
import type { UpdateInbox } from '../inbox/update-inbox.js';
import { BotCountersCollector } from '../ipc/bot-counters.js';
import { HealthProbe } from '../ipc/health-probe.js';
import { answerPings } from '../ipc/pong-responder.js';
import { SupervisorLink } from '../ipc/supervisor-link.js';
import { JobBook, QUOTA_LEDGER_FILE } from '../jobs/pool/job-book.js';
import { JobPool } from '../jobs/pool/job-pool.js';
import { emptyJobsFile, type JobsFile, jobsFileSchema } from '../jobs/pool/job-record.js';
import { QuotaLedger } from '../jobs/pool/quota-ledger.js';
import { retryButtonHandler } from '../jobs/pool/retry-button.js';
import { stopButtonHandler } from '../jobs/pool/stop-button.js';
import { createOutboxApi, installApi } from '../outbox/routed-api.js';
import { Pipeline } from '../pipeline.js';
import { isBadTokenError } from '../polling/error-policy.js';
import { PollHealth } from '../polling/poll-health.js';
import { describeApiError } from '../telegram/describe-api-error.js';
import { guardEnvelope } from '../telegram/envelope-guard.js';
import { keepAliveFetch } from '../telegram/keep-alive-fetch.js';
import { installCrashHandlers } from './crash-handlers.js';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_RESTART } from './exit-codes.js';
import { HandOffLedger } from './hand-off-ledger.js';
import { LockRefusedError, lockHandshake, type PollingMode } from './lock-handshake.js';
import { releaseInbox } from './release-inbox.js';
import { Shutdown } from './shutdown.js';
import { awaitTakeOver } from './standby.js';
import { warmUpForTakeOver } from './standby-warm-up.js';
import { StartupError, step } from './startup-step.js';

/**
 * The deadline of one Bot API call through the outbox. Kept by the transport as one timer
 * (keep-alive-fetch.ts), not by the client's per-call `AbortSignal.timeout`, whose cost showed per send.
 */
const SEND_TIMEOUT_MS = 120_000;

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

/** One line that says what to fix: the token, the config, or (by its step) what failed. */
function describeStartupFailure(err: unknown): string {
  if (err instanceof StartupError && isBadTokenError(err.cause)) return `the Bot API refused the token at ${err.step} (${describeApiError(err.cause)}); check it with @BotFather and fix the config`;
  if (err instanceof StartupError && err.cause instanceof ConfigError) return `the config cannot be used: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** The reason a person reads as the bot's problem: one line on stderr (see REASON_LINE_PREFIX). */
function sayWhy(message: string): void {
  process.stderr.write(redact(`${REASON_LINE_PREFIX}${message.replace(/\s*\n\s*/g, ' ')}\n`));
}

export async function runBot(options: RunBotOptions): Promise<void> {
  const { definition, config, bot: botConfig } = options;
  const env = options.env ?? process.env;
  const logger = createLogger({ proc: botConfig.name, logDir: config.logDir, console: options.console ?? 'auto' });
  const botDir = path.join(config.dataDir, 'bots', botConfig.name);
  const backupDir = path.join(config.dataDir, 'backups', botConfig.name);
  const grace = definition.options.shutdownGraceMs ?? 10_000;
  const link = new SupervisorLink(process, logger);
  const probe = new HealthProbe();
  const counters = new BotCountersCollector();
  const services: BotService[] = [];
  let queuedJobs = (): number => 0;
  let pipeline: Pipeline | undefined;
  let mode: PollingMode | undefined;
  let outboxRef: { stop: (graceMs: number) => Promise<void> } | undefined;

  const shutdown = new Shutdown({ logger, forceExitAfterMs: grace + 5000, exit: (code) => process.exit(code) });
  const exit = (code: number, why: string): Promise<never> => shutdown.run(code, why);
  // Under a supervisor, a fresh process by a hand-over (no poll gap; a new process that does not
  // load is rolled back); run by hand, a restart by exit 42.
  let reloadAsked = false;
  const requestRestart = (reason: string): void => {
    if (link.connected && !reloadAsked) {
      reloadAsked = true;
      link.send({ type: 'reload-request', reason: reason.slice(0, 500) });
      return;
    }
    if (!link.connected) void exit(EXIT_RESTART, `restart requested: ${reason}`);
  };
  shutdown.push('health probe stopped', () => probe.stop());
  // Pushed before the stores open so it runs after they close: nothing else may poll this token
  // or open this bot's files until they are.
  shutdown.push('polling lock released', async () => {
    if (mode?.polling === true) await mode.lock?.release();
  });

  // What asks for shutdown.
  installCrashHandlers(logger, (code) => exit(code, 'crash'));
  process.once('SIGTERM', () => void exit(EXIT_OK, 'SIGTERM'));
  process.once('SIGINT', () => void exit(EXIT_OK, 'SIGINT'));
  link.on('shutdown', (m) => void exit(EXIT_OK, `supervisor asked: ${m.reason ?? 'shutdown'}`));
  link.onDisconnect(() => void exit(EXIT_OK, 'the supervisor is gone (IPC disconnected)'));
  answerPings(link, {
    probe,
    counters,
    queueDepth: () => pipeline?.queued ?? 0,
    runningJobs: () => services.reduce((n, s) => n + (s.runningJobs?.() ?? 0), 0),
    queuedJobs: () => queuedJobs(),
  });

  try {
    // The token's numeric prefix is the Telegram bot's id: another bot's token means a fresh inbox.
    const botId = botConfig.token.split(':', 1)[0] as string;
    // A reload's replacement waits here until the old process has closed the inbox (standby.ts);
    // `hold` then has the updates the old one is still handling.
    const pollApi = new Api(botConfig.token, { apiRoot: config.apiRoot, fetch: guardEnvelope(), maxRetries: 0, timeoutMs: ((definition.options.pollTimeoutSec ?? 30) + 15) * 1000 });
    const hold = await awaitTakeOver(link, env, logger, () => warmUpForTakeOver({ botDir, botId, pollApi, logger }));
    const takenOverAt = performance.now();
    // The supervisor sends hello right after fork; it matters when it holds the lock for us, and
    // in cluster mode it names the shared inbox and the lease epoch this run writes it under.
    const hello = env[SKIP_TELEGRAM_LOCK_VAR] === '1' && link.connected ? await link.waitForHello(5000) : undefined;
    const cluster = hello?.cluster;
    if (cluster !== undefined) registerPostgresSecret(cluster.postgres);
    // Another node holds the token now (a cluster write was refused): nothing this run writes counts; stop before anything else happens.
    const fencedOut = (what: string, err: { epoch: number; currentEpoch: number | undefined }): void => {
      logger.warning(`this node lost the token: a write to the cluster ${what} was refused for an older lease epoch; stopping`, { epoch: err.epoch, currentEpoch: err.currentEpoch });
      void exit(EXIT_FAILURE, `fenced out of the cluster ${what}`);
    };
    const inbox = await step<UpdateInbox>(
      'store opened',
      () =>
        cluster === undefined
          ? Inbox.open({ botDir, backupDir, logger, botId })
          : // Loaded only in cluster mode: the PostgreSQL client is ~50 modules a file-inbox bot never needs.
            import('../inbox/postgres-inbox.js').then(({ PostgresInbox }) =>
              PostgresInbox.open({
              connectionString: cluster.postgres,
              tokenHash: cluster.tokenHash,
              epoch: cluster.epoch,
              botId,
              logger,
              onFenced: (err) => fencedOut('inbox', err),
            }),
            ),
      exitCodeFor,
    );
    if (cluster !== undefined) logger.info('cluster mode: the inbox, state and job records are shared in PostgreSQL', { epoch: cluster.epoch, node: cluster.node });
    const inboxOpenMs = Math.round(performance.now() - takenOverAt);
    let inboxHandedOver = false;
    shutdown.push('inbox closed', () => (inboxHandedOver ? undefined : inbox.close()));
    // Closed after the handlers and the bot's services, before the outbox drains: a reload's new
    // process waits for these two files, not for the old one's last replies.
    let handedOver = false;
    shutdown.push('outbox drained', () => outboxRef?.stop(Math.min(grace, 3000)));
    shutdown.push('stores released', () => void (handedOver && link.send({ type: 'stores-released' })));
    let state: DurableStore<object> | undefined;
    let jobsStore: DurableStore<JobsFile> | undefined;
    // Cluster mode: state and job records are rows in PostgreSQL (one connection for both), disconnected after they close.
    let documents: DocumentDatabase | undefined;
    shutdown.push('cluster documents disconnected', () => documents?.close());
    shutdown.push('state closed', () => state?.close());
    shutdown.push('jobs closed', () => jobsStore?.close());
    const stateOptions = definition.options.state;
    const stateDefaults = stateOptions?.defaults ?? (() => ({}));
    const stateSchema = stateOptions?.schema !== undefined ? { schema: stateOptions.schema } : {};
    const openStores = async (): Promise<{ state: DurableStore<object>; jobsStore: DurableStore<JobsFile> }> => {
      if (cluster !== undefined) {
        // Loaded only in cluster mode, like the PostgreSQL inbox above.
        const [{ DocumentDatabase }, { openPostgresStore }] = await Promise.all([import('../cluster/document-database.js'), import('../cluster/postgres-store.js')]);
        const db = await step(
          'store opened',
          () => DocumentDatabase.open({ connectionString: cluster.postgres, tokenHash: cluster.tokenHash, epoch: cluster.epoch, logger, onFenced: (err) => fencedOut('state or job records', err) }),
          exitCodeFor,
        );
        documents = db;
        await makePrivateDir(botDir); // the node's own files still live here: the quota ledger, job temp files
        // Job records are their own document for the reason they are their own file (below).
        state = await step('store opened', () => openPostgresStore<object>({ db, name: 'state', defaults: stateDefaults, ...stateSchema }), exitCodeFor);
        jobsStore = await step('store opened', () => openPostgresStore<JobsFile>({ db, name: 'jobs', defaults: emptyJobsFile, schema: jobsFileSchema }), exitCodeFor);
        return { state, jobsStore };
      }
      state = await step('store opened', () => openStore<object>({ file: path.join(botDir, 'state.json'), defaults: stateDefaults, ...stateSchema, logger, backupDir, role: 'bot' }), exitCodeFor);
      // Job records live in their own file: independent of the bot's state schema, and their own
      // corruption domain (see jobs/pool/job-record.ts).
      jobsStore = await step(
        'store opened',
        () => openStore<JobsFile>({ file: path.join(botDir, 'jobs.json'), defaults: emptyJobsFile, schema: jobsFileSchema, logger, backupDir, role: 'bot' }),
        exitCodeFor,
      );
      return { state, jobsStore };
    };
    // A reload's new process opens them once the old one has closed them (see below).
    const early = hold === undefined ? await openStores() : undefined;

    mode = await step(
      'lock handshake',
      () =>
        lockHandshake({
          botName: botConfig.name,
          token: botConfig.token,
          locksDir: config.locksDir,
          configFile: config.source,
          configuredToPoll: botConfig.polling,
          auxiliary: botConfig.auxiliary,
          skipTelegramLock: env[SKIP_TELEGRAM_LOCK_VAR] === '1',
          hello,
          logger,
          onCompromised: () => void exit(EXIT_FAILURE, 'the polling lock was compromised; stop polling'),
        }),
      (err) => (err instanceof LockRefusedError || err instanceof LockHeldError ? EXIT_FAILURE : exitCodeFor(err)),
    );
    const polling = mode.polling;
    logger.info(polling ? 'polling' : 'send-only', { why: mode.why });

    // Every call of bot.api — ctx.reply included — goes through the outbox (rate limits, 429s,
    // splitting, the duplicate-send policy); see outbox/routed-api.ts.
    const { api, outbox } = createOutboxApi(botConfig.token, { apiRoot: config.apiRoot, timeoutMs: 0, fetch: guardEnvelope(keepAliveFetch({ timeoutMs: SEND_TIMEOUT_MS })) }, { logger, onApiError: (code) => counters.apiError(code), ...definition.options.outbox });
    outboxRef = outbox;
    const bot = new Bot(botConfig.token, { apiRoot: config.apiRoot, maxRetries: 0 });
    installApi(bot, api);

    // Its hand-over middleware goes first on the bot, before anything the bot registers.
    const ledger = new HandOffLedger(inbox);
    const updates = new Pipeline({
      inbox,
      bot,
      logger,
      allow: botConfig.allow,
      incomingLimits: definition.options.incomingLimits,
      concurrency: definition.options.concurrency,
      priorityCommands: definition.options.priorityCommands,
      onHandled: (outcome, ms) => {
        if (outcome !== 'skipped') counters.handled(outcome, ms / 1000);
      },
      ledger,
      hold,
    });
    pipeline = updates;
    hold?.attach({ settle: (id) => inbox.settle(id), enqueue: (item) => updates.enqueue(item), kept: (count) => updates.holdOutside(count) });
    shutdown.push('services stopped', async () => {
      for (const s of [...services].reverse()) await s.stop?.(grace);
    });
    shutdown.push('handlers finished', async () => {
      if (!(await updates.drain(grace))) logger.warning('handlers still running after the grace period; their updates stay in the inbox', { graceMs: grace });
    });
    // A reload: hand the inbox over at a batch boundary, then stop as at any shutdown (release-inbox.ts).
    link.on('hand-over', (m) => {
      if (inboxHandedOver || shutdown.started) return;
      inboxHandedOver = true;
      handedOver = true;
      void releaseInbox({ stopPolling: () => updates.stopPolling(), stopDispatching: () => updates.stopDispatching(), ledger, inbox, send: (msg) => void link.send(msg) }).then(
        (released) => {
          logger.info('handed the inbox over to the new process', { stillRunning: released.running.length, pollStopMs: released.pollStopMs, inboxCloseMs: released.inboxCloseMs });
          return exit(EXIT_OK, `handed over: ${m.reason ?? 'reload'}`);
        },
        (err: unknown) => {
          logger.error('the hand-over of the inbox failed', { err });
          return exit(EXIT_FAILURE, 'hand-over failed');
        },
      );
    });

    // Polling starts into the durable inbox; the dispatch barrier keeps its updates waiting until ready.
    const startPolling = (): void => {
      // The poll loop's trouble, as the bot's problem: the supervisor shows it (status, /health, alerts).
      const health = new PollHealth({ apiRoot: config.apiRoot, report: (text) => void link.send({ type: 'problem', text }) });
      shutdown.push('polling stopped', async () => {
        await updates.stopPolling();
        health.stop();
      });
      void updates
        .poll({
          api: health.watch(pollApi),
          timeoutSec: definition.options.pollTimeoutSec ?? 30,
          onConflict: (report) =>
            link.send({ type: 'event', event: { kind: 'conflict', bot: botConfig.name, at: new Date().toISOString(), message: `409 Conflict (${report.consecutive} in a row)`, data: { ...report } } }),
          onBadToken: (description) => {
            sayWhy(`the Bot API refused the token at getUpdates (${description}); check it with @BotFather and fix the config`);
            void exit(EXIT_CONFIG, 'the Bot API refused the token');
          },
          onApiError: (code) => counters.apiError(code),
        })
        .catch((err: unknown) => {
          if (err instanceof InboxFencedError) return; // onFenced is stopping the bot
          logger.error('the polling loop failed', { err });
          void exit(EXIT_FAILURE, 'polling loop failed');
        });
    };
    if (hold !== undefined) {
      // A reload's take-over: the poll gap is the hand-over only. The old process's leftovers go to
      // the dispatcher first (its running updates and their chats held), then polling resumes at
      // once, before the old process has finished; the rest of start-up waits for its stores.
      const recoverFrom = performance.now();
      await updates.recover();
      const recoverMs = Math.round(performance.now() - recoverFrom);
      if (polling) startPolling();
      logger.info('took the inbox over from the old process: polling', { held: hold.count, inboxOpenMs, recoverMs, takeOverToPollMs: Math.round(performance.now() - takenOverAt) });
      await hold.released;
    }
    const stores = early ?? (await openStores());
    const pool = new JobPool(
      {
        // The quota ledger stays a local file where jobs.json would be, in cluster mode too (it only ever raises a count).
        book: new JobBook(stores.jobsStore, undefined, undefined, new QuotaLedger(path.join(botDir, QUOTA_LEDGER_FILE))),
        api,
        commands: botConfig.commands,
        admins: botConfig.admins,
        spoolDir: path.join(botDir, 'tmp'),
        logger,
        report: (message) => void link.send(message),
        ...(cluster !== undefined ? { node: cluster.node } : {}),
      },
      definition.options.jobs,
    );
    // Stopped in reverse order: the bot's own services, then the pool (its last words); the outbox after the stores.
    services.push({ name: 'job pool', start: () => pool.start(), stop: (g) => pool.stop(g), runningJobs: () => pool.runningCount });
    queuedJobs = () => pool.queuedCount;

    // The pool's Retry and Stop buttons work whatever the bot registers.
    bot.on('callback_query', retryButtonHandler(pool, api));
    bot.on('callback_query', stopButtonHandler(pool));
    link.on('operator-stop', (m) => void pool.stoppedByOperator(m.pid));
    const runtime: BotRuntime<object> = {
      config: botConfig,
      logger,
      state: stores.state,
      polling,
      requestRestart: (reason) => requestRestart(reason),
      onSupervisorEvent: (handler) => link.onEvent(handler),
      fleetStatus: () => link.fleetStatus(),
      addService: (s) => void services.push(s),
      jobs: pool,
      outbox,
    };
    await step('bot setup', () => definition.setup(bot, runtime), exitCodeFor);
    if (hold === undefined) await updates.recover();

    if (polling && hold === undefined) await step('deleteWebhook', () => pollApi.deleteWebhook({ drop_pending_updates: false }), exitCodeFor);
    const me = await step('getMe', () => bot.api.getMe(), exitCodeFor);

    // Polling starts now, so updates flow into the durable inbox while services start; the
    // dispatch barrier keeps them waiting until ready.
    if (polling && hold === undefined) startPolling();
    for (const s of services) await step(`${s.name} started`, async () => s.start?.(), exitCodeFor);
    updates.reportQuarantined();
    // Ready first: a handler may run synchronously the moment dispatch opens.
    link.send({ type: 'ready', ...(me.username !== undefined ? { username: me.username } : {}) });
    logger.info('ready', { username: me.username, polling });
    updates.open();
  } catch (err) {
    const code = err instanceof StartupError ? err.exitCode : EXIT_FAILURE;
    const message = describeStartupFailure(err);
    logger.error(message, { err });
    sayWhy(message);
    await exit(code, 'start-up failed');
  }
}

export type { Logger };
