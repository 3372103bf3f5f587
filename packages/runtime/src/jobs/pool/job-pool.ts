/**
 * The job pool: schedules users' CLI jobs, a few at a time (default 3), one at a time per user in
 * the order they were asked for, with a bounded queue per user (default 10) plus a daily quota.
 * Every job is remembered in the bot's jobs file so a restart loses nothing: a job that was running
 * becomes `interrupted` with a Retry button for its owner; queued jobs simply resume. A Retry is
 * a new request checked like one: against the config of the day it is tapped.
 *
 * It is a `BotService`: `start()` (a start-up step, before the bot is ready) cleans up after a
 * crash — orphaned job processes (this host's only: in cluster mode a record names the node its
 * process ran on), temp files — then resumes the queue; `stop()` stops running jobs
 * (they become `interrupted`, with a Retry button) leaving the queue for the next start.
 * Each job is one message in its chat, its "card", edited as the job moves on: queued (with a
 * Stop button that takes it off the queue) → running with live output (Stop) → done, failed,
 * stopped or interrupted (Retry); a button is gone once it no longer applies. Output goes to the
 * card through the outbox (chat/live-output.ts). Scheduling is in user-queues.ts, records in
 * job-book.ts, wording in job-messages.ts, the buttons' data in retry-data.ts and stop-data.ts
 * (their taps are handled by retry-button.ts and stop-button.ts).
 */
import { isAlive, type Logger, settlesWithin } from '@botvisor/core';
import type { Api, InlineKeyboardMarkup } from 'node-telegram-bot-api';
import { LiveOutput, type LiveOutputOptions } from '../chat/live-output.js';
import { removeLeftoverSpools } from '../io/output-spool.js';
import { type JobHandle, type JobProcessReport, type JobResult, runJob } from '../run-job.js';
import { stopJobTree } from '../terminate/stop-job-tree.js';
import type { JobBook, NewJob } from './job-book.js';
import { jobText, type StoppedBy } from './job-messages.js';
import type { JobRecord, JobStatus } from './job-record.js';
import { type CommandRequest, type CommandSpec, resolveCommand } from './resolve-command.js';
import type { JobRetrier } from './retry-button.js';
import { retryKeyboard } from './retry-data.js';
import type { JobStopper } from './stop-button.js';
import { stopKeyboard } from './stop-data.js';
import type { SubmitResult } from './submit-result.js';
import { UserQueues } from './user-queues.js';

export interface JobPoolOptions {
  /** Jobs running at once across all users. Default 3. */
  concurrency?: number;
  /** Jobs waiting per user. Default 10. */
  queueLimit?: number;
  /** Jobs per user per UTC day; 0 = no quota. Default 100. Admins have none. */
  dailyQuota?: number;
  /** SIGTERM → SIGKILL when a job is stopped. Default 3000 ms. */
  killGraceMs?: number;
  /** Environment of jobs: names copied from the bot's environment, values set. */
  env?: { allow?: readonly string[]; set?: Readonly<Record<string, string>> };
  /** Working folder of jobs. Default the bot process's. */
  cwd?: string;
  /** How output is shown in the chat. */
  live?: Pick<LiveOutputOptions, 'intervalMs' | 'messageChars' | 'documentThresholdBytes'>;
}

export interface JobPoolDeps {
  book: JobBook;
  /** The routed Api: everything the pool says goes through the outbox. */
  api: Api;
  commands: Readonly<Record<string, CommandSpec>>;
  admins: readonly number[];
  /** Folder for the jobs' temp files (cleared at start). */
  spoolDir: string;
  logger: Logger;
  report?: (message: JobProcessReport) => void;
  run?: typeof runJob;
  /**
   * Cluster mode: this node's name, written into each running job's record. At start a record
   * from another node is marked interrupted like any, but its pid (another host's) is never signalled.
   */
  node?: string;
}

export interface JobRequest extends CommandRequest {
  userId: number;
  chatId: number;
  /** The update that asked: a redelivered update finds its job instead of starting a second one. */
  updateId?: number;
}

interface StopFlags {
  /** Set when the bot is stopping: the job ends as `interrupted`, not `cancelled`. */
  shutdown: boolean;
  /** Set when someone stopped it: the job ends as `cancelled`, and its card says by whom. */
  stoppedBy?: StoppedBy;
}

interface Running {
  job: JobRecord;
  handle: JobHandle;
  flags: StopFlags;
}

export class JobPool implements JobRetrier, JobStopper {
  private readonly queues = new UserQueues();
  private readonly running = new Map<number, Running>();
  /** Jobs whose `running` record is being written; their process starts right after. Count toward concurrency. */
  private readonly starting = new Map<number, number>();
  private readonly settled = new Map<number, Promise<void>>();
  /** Cards of queued jobs being sent: a job that starts meanwhile continues that message instead of sending another. */
  private readonly cards = new Map<number, Promise<number | undefined>>();
  private readonly concurrency: number;
  private readonly queueLimit: number;
  private readonly dailyQuota: number;
  private readonly killGraceMs: number;
  private stopping = false;

  constructor(
    private readonly deps: JobPoolDeps,
    private readonly options: JobPoolOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 3;
    this.queueLimit = options.queueLimit ?? 10;
    this.dailyQuota = options.dailyQuota ?? 100;
    this.killGraceMs = options.killGraceMs ?? 3000;
  }

  get runningCount(): number {
    return this.running.size + this.starting.size;
  }

  get queuedCount(): number {
    return this.queues.size;
  }

  /** A job's record, or undefined. */
  get(id: number): JobRecord | undefined {
    return this.deps.book.get(id);
  }

  /** The user's jobs (or everyone's), newest last. */
  list(userId?: number): JobRecord[] {
    return this.deps.book.all().filter((j) => userId === undefined || j.userId === userId);
  }

  /**
   * Asks for a job. The user is told what happened (queued, or why not); the job's output and
   * result go to `chatId`. Resolves once the job is on disk, so the update that asked for it can
   * be settled safely.
   */
  async submit(request: JobRequest): Promise<SubmitResult> {
    const resolved = resolveCommand(request, this.deps.commands, this.isAdmin(request.userId));
    if (!resolved.ok) return this.refuse(request.chatId, resolved.reason, resolved.message);
    if (this.stopping) return this.refuse(request.chatId, 'stopping', jobText.stopping(resolved.title));
    return this.admit(
      {
        userId: request.userId,
        chatId: request.chatId,
        command: request.command,
        title: resolved.title,
        argv: resolved.argv,
        // Only a config command can be checked again at Retry; an inline spec lives in the bot's code.
        ...(request.spec === undefined ? { args: resolved.values } : {}),
        timeoutMs: resolved.timeoutMs,
        ...(resolved.idleTimeoutMs !== undefined ? { idleTimeoutMs: resolved.idleTimeoutMs } : {}),
        ...(this.options.cwd !== undefined ? { cwd: this.options.cwd } : {}),
        ...(request.updateId !== undefined ? { updateId: request.updateId } : {}),
      },
      true,
    );
  }

  /**
   * Runs an interrupted job again as a new one (the Retry button), once. Only its owner (or an
   * admin) may; the command is resolved again against the current config — it must still exist,
   * its admin rule and argument patterns must still let the owner's values through — so a Retry
   * can never do what asking afresh would not.
   */
  async retry(jobId: number, userId: number): Promise<SubmitResult> {
    const original = this.deps.book.get(jobId);
    if (original === undefined) return { accepted: false, reason: 'not-found', message: jobText.notFound(jobId) };
    if (original.userId !== userId && !this.isAdmin(userId)) return { accepted: false, reason: 'not-yours', message: jobText.notYours(jobId) };
    if (original.status !== 'interrupted') return { accepted: false, reason: 'not-interrupted', message: jobText.notRetryable(jobId, original.status) };
    if (original.retriedAs !== undefined) return { accepted: false, reason: 'already-retried', message: jobText.alreadyRetried(jobId, original.retriedAs) };
    if (!this.canRetry(original)) return { accepted: false, reason: 'not-retryable', message: jobText.sendAgain(jobId) };
    if (this.stopping) return { accepted: false, reason: 'stopping', message: jobText.stopping() };
    const { userId: owner, chatId, command, title } = original;
    const resolved = resolveCommand({ command, args: original.args ?? {} }, this.deps.commands, this.isAdmin(owner));
    if (!resolved.ok) return { accepted: false, reason: resolved.reason, message: jobText.retryRefused(jobId, resolved.message) };
    return this.admit(
      {
        userId: owner,
        chatId,
        command,
        title,
        argv: resolved.argv,
        args: resolved.values,
        timeoutMs: resolved.timeoutMs,
        retryOf: jobId,
        ...(resolved.idleTimeoutMs !== undefined ? { idleTimeoutMs: resolved.idleTimeoutMs } : {}),
        ...(this.options.cwd !== undefined ? { cwd: this.options.cwd } : {}),
      },
      false,
    );
  }

  /** Stops the user's running job (and with `all`, drops their queued ones). Returns the counts. */
  cancel(userId: number, options: { all?: boolean } = {}): { stopped: number; dropped: number } {
    let stopped = 0;
    for (const r of this.running.values()) {
      if (r.job.userId !== userId) continue;
      r.flags.stoppedBy ??= 'owner';
      r.handle.cancel();
      stopped++;
    }
    let dropped = 0;
    if (options.all === true) {
      for (const id of [...this.queues.of(userId)]) {
        this.drop(userId, id);
        dropped++;
      }
    }
    return { stopped, dropped };
  }

  /**
   * The Stop button: stops one job — running, or taken off the queue — for its owner or an admin.
   * Says what happened in words for the tap's answer; the card says how the job ended.
   */
  stopJob(jobId: number, userId: number): { ok: boolean; message: string } {
    const job = this.deps.book.get(jobId);
    if (job === undefined) return { ok: false, message: jobText.notFound(jobId) };
    const by: StoppedBy = job.userId === userId ? 'owner' : 'admin';
    if (by === 'admin' && !this.isAdmin(userId)) return { ok: false, message: jobText.notYours(jobId) };
    const running = this.running.get(jobId);
    if (running !== undefined) {
      running.flags.stoppedBy ??= by;
      running.handle.cancel();
      return { ok: true, message: jobText.stoppingJob(jobId) };
    }
    if (job.status === 'queued' && this.queues.of(job.userId).includes(jobId)) {
      this.drop(job.userId, jobId);
      return { ok: true, message: jobText.droppedAnswer(jobId) };
    }
    return { ok: false, message: jobText.notStoppable(jobId, job.status) };
  }

  /**
   * The supervisor is stopping process `pid` on the operator's behalf (the dashboard): if it is a
   * job's process, that job ends as stopped by the operator rather than as killed by a signal.
   */
  stoppedByOperator(pid: number): boolean {
    for (const r of this.running.values()) {
      if (this.deps.book.get(r.job.id)?.process?.pid !== pid) continue;
      r.flags.stoppedBy = 'operator';
      return true;
    }
    return false;
  }

  /** Start-up: today's quota as the ledger recorded it, clean up after a crash, tell owners of interrupted jobs, resume the queue. */
  async start(): Promise<void> {
    const { book, logger } = this.deps;
    for (const r of await book.restoreQuota()) {
      logger.warning("the jobs file knew fewer of today's jobs than the quota ledger (restored from a backup?); the quota counts the ledger's", { userId: r.userId, jobsFile: r.from, ledger: r.to });
    }
    const removed = await removeLeftoverSpools(this.deps.spoolDir);
    if (removed > 0) logger.info('removed job temp files left by the previous run', { count: removed });
    for (const job of book.interruptRunning()) {
      const elsewhere = job.process?.node !== undefined && job.process.node !== this.deps.node ? job.process.node : undefined;
      if (elsewhere !== undefined) {
        // Another host's pid: here it names an unrelated process, or nothing. That host's supervisor reaps its own.
        logger.warning('a job was running on another cluster node when this node took the bot over; it is marked interrupted, its process there left to that node', { jobId: job.id, command: job.command, node: elsewhere });
        continue;
      }
      logger.warning('a job was running when the bot stopped; it is marked interrupted', { jobId: job.id, command: job.command });
      // Started by the previous run of this bot and not reaped (no supervisor, or it died too).
      if (job.process !== undefined && isAlive(job.process)) {
        const { survivors } = await stopJobTree(job.process, job.process.marker, { graceMs: Math.min(this.killGraceMs, 1000) });
        logger.warning('stopped the orphaned process of an interrupted job', { jobId: job.id, pid: job.process.pid, survivors: survivors.length });
      }
    }
    for (const job of book.withStatus('interrupted')) if (job.notified !== true) this.notifyInterrupted(job);
    for (const job of book.withStatus('queued')) this.queues.push(job.userId, job.id);
    await book.flush();
    this.pump();
  }

  /** Shutdown: running jobs are stopped and become `interrupted`; queued jobs stay for the next start. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const killGrace = Math.min(this.killGraceMs, Math.max(500, Math.floor(graceMs / 4)));
    for (const r of this.running.values()) {
      r.flags.shutdown = true;
      r.handle.cancel({ graceMs: killGrace });
    }
    const all = Promise.all(this.settled.values());
    // Enough for the kill and the last words, and never the whole grace: the outbox still needs its turn.
    const waitMs = Math.min(graceMs, killGrace + 3000);
    if (!(await settlesWithin(all, waitMs))) this.deps.logger.warning('jobs still finishing at shutdown', { running: this.running.size });
    await this.deps.book.flush();
  }

  private isAdmin(userId: number): boolean {
    return this.deps.admins.includes(userId);
  }

  /**
   * Whether Retry may be offered: a config command (its values recorded, so they can be checked
   * again) that is not itself a retry — a job is run again once, not in a chain.
   */
  private canRetry(job: JobRecord): boolean {
    return job.retryOf === undefined && job.args !== undefined;
  }

  private async refuse<R extends Extract<SubmitResult, { accepted: false }>['reason']>(chatId: number, reason: R, message: string): Promise<SubmitResult> {
    await this.tell(chatId, message);
    return { accepted: false, reason, message };
  }

  private async admit(draft: NewJob, tellQueued: boolean): Promise<SubmitResult> {
    const { book } = this.deps;
    const quota = this.dailyQuota > 0 && !this.isAdmin(draft.userId) ? this.dailyQuota : undefined;
    const admission = book.admit(draft, { queueLimit: this.queueLimit, dailyQuota: quota });
    if (!admission.ok) {
      const message =
        admission.reason === 'queue-full'
          ? jobText.queueFull(draft.title, admission.limit)
          : admission.reason === 'quota-exceeded'
            ? jobText.quota(draft.title, admission.limit)
            : jobText.alreadyRetried(draft.retryOf ?? 0, admission.retriedAs);
      if (admission.reason === 'already-retried') return { accepted: false, reason: admission.reason, message };
      return this.refuse(draft.chatId, admission.reason, message);
    }
    const { job, duplicate } = admission;
    if (duplicate) return { accepted: true, job, duplicate, started: job.status !== 'queued' };
    this.queues.push(job.userId, job.id);
    this.pump();
    await book.flush(); // on disk before the update that asked for it is settled
    const started = this.running.has(job.id) || this.starting.has(job.id);
    if (!started && tellQueued) {
      const ahead = this.queues.of(job.userId).indexOf(job.id) + [...this.running.values()].filter((r) => r.job.userId === job.userId).length;
      await this.sendCard(job, jobText.queued(job, ahead));
    }
    return { accepted: true, job: book.get(job.id) ?? job, duplicate: false, started };
  }

  private pump(): void {
    if (this.stopping) return;
    const busy = (userId: number): boolean => [...this.running.values()].some((r) => r.job.userId === userId) || [...this.starting.values()].includes(userId);
    while (this.running.size + this.starting.size < this.concurrency) {
      const next = this.queues.next(busy);
      if (next === undefined) return;
      const job = this.deps.book.get(next.jobId);
      if (job === undefined || job.status !== 'queued') continue;
      this.launch(job);
    }
  }

  private launch(queued: JobRecord): void {
    const { book, logger } = this.deps;
    book.markRunning(queued.id);
    const job = book.get(queued.id) ?? queued;
    this.starting.set(job.id, job.userId);
    // `running` is on disk before the process exists: if this bot dies a moment later, the next
    // start reports the job interrupted (with Retry) instead of running it a second time.
    const startup = book.flush().then(
      () => {
        this.starting.delete(job.id);
        this.spawn(job);
      },
      (err: unknown) => {
        this.starting.delete(job.id);
        logger.error('could not record a job as running; not starting it', { jobId: job.id, err });
        book.finish(job.id, 'failed', { code: null, signal: null, durationMs: 0, outputBytes: 0, timedOut: false, cancelled: false, failure: 'its record could not be written' });
        this.pump();
      },
    );
    this.settled.set(job.id, startup);
  }

  private spawn(job: JobRecord): void {
    const { book, logger, api } = this.deps;
    if (this.stopping) {
      // Shutdown began while its record was being written: it never ran; the next start offers Retry.
      book.finish(job.id, 'interrupted', undefined, false);
      this.settled.delete(job.id);
      return;
    }
    let handle: JobHandle | undefined;
    const card = this.cards.get(job.id) ?? (job.messageId !== undefined ? Promise.resolve(job.messageId) : undefined);
    const live = new LiveOutput({
      api,
      chatId: job.chatId,
      title: jobText.liveTitle(job),
      filename: `job-${job.id}.log`,
      tail: () => handle?.tail() ?? '',
      logger,
      keyboard: stopKeyboard(job.id),
      ...(card !== undefined ? { adopt: card } : {}),
      onFirstMessage: (messageId) => book.setMessage(job.id, messageId),
      ...this.options.live,
    });
    const flags: StopFlags = { shutdown: false };
    try {
      handle = (this.deps.run ?? runJob)(
        {
          id: `job-${job.id}`,
          name: job.command,
          argv: job.argv,
          ...(job.cwd !== undefined ? { cwd: job.cwd } : {}),
          ...(this.options.env !== undefined ? { env: this.options.env } : {}),
          timeoutMs: job.timeoutMs,
          ...(job.idleTimeoutMs !== undefined ? { idleTimeoutMs: job.idleTimeoutMs } : {}),
          killGraceMs: this.killGraceMs,
          spoolDir: this.deps.spoolDir,
          ...(this.deps.report !== undefined ? { report: this.deps.report } : {}),
          onSpawn: (ref, marker) => book.setProcess(job.id, { ...ref, marker, ...(this.deps.node !== undefined ? { node: this.deps.node } : {}) }),
          onOutput: (chunk, stream) => live.write(chunk, stream),
          onEnded: async (result, log) => {
            const status = statusOf(flags, result);
            await live.finish({
              summary: jobText.summary(job, result, status, this.canRetry(job), flags.stoppedBy),
              inPlace: true,
              ...(log !== undefined ? { log } : {}),
              ...(status === 'interrupted' && this.canRetry(job) ? { replyMarkup: retryKeyboard(job.id) } : {}),
            });
          },
        },
        { logger },
      );
    } catch (err) {
      logger.error('a job could not be started', { jobId: job.id, err });
      book.finish(job.id, 'failed', { code: null, signal: null, durationMs: 0, outputBytes: 0, timedOut: false, cancelled: false, failure: 'it could not be started' });
      void this.showOnCard(job, `❌ Job #${job.id} (${job.title}) could not be started.`);
      return;
    }
    this.running.set(job.id, { job, handle, flags });
    logger.info('job started', { jobId: job.id, command: job.command, userId: job.userId });
    live.start();
    const settled = handle.result
      .then((result) => {
        const status = statusOf(flags, result);
        book.finish(job.id, status, outcomeOf(result, flags.stoppedBy), status === 'interrupted' ? true : undefined);
        logger.info('job finished', { jobId: job.id, status, code: result.code, signal: result.signal, durationMs: result.durationMs, outputBytes: result.outputBytes });
      })
      .catch((err: unknown) => logger.error('a job failed in the runner', { jobId: job.id, err }))
      .finally(() => {
        this.running.delete(job.id);
        this.settled.delete(job.id);
        this.pump();
      });
    this.settled.set(job.id, settled);
  }

  private notifyInterrupted(job: JobRecord): void {
    const retry = this.canRetry(job);
    this.showOnCard(job, jobText.interruptedByRestart(job, retry), retry ? retryKeyboard(job.id) : undefined)
      .then(() => this.deps.book.markNotified(job.id))
      .catch((err: unknown) => this.deps.logger.warning('could not tell the owner of an interrupted job', { jobId: job.id, err }));
  }

  /** Takes a queued job off its owner's queue; its card says so and loses its Stop button. */
  private drop(userId: number, jobId: number): void {
    this.queues.remove(userId, jobId);
    this.deps.book.finish(jobId, 'cancelled', undefined);
    const job = this.deps.book.get(jobId);
    if (job === undefined) return;
    void this.cardId(job).then((messageId) => {
      if (messageId !== undefined) return this.showOnCard({ ...job, messageId }, jobText.dropped(job)).catch(() => undefined);
    });
  }

  /** The card's message id: sent, being sent, or none. */
  private cardId(job: JobRecord): Promise<number | undefined> {
    return this.cards.get(job.id) ?? Promise.resolve(job.messageId);
  }

  /** The first message of a queued job's card, with its Stop button; the id is recorded for the job. */
  private async sendCard(job: JobRecord, text: string): Promise<void> {
    const sending = this.deps.api.sendMessage({ chat_id: job.chatId, text, reply_markup: stopKeyboard(job.id) }).then(
      (m) => {
        this.deps.book.setMessage(job.id, m.message_id);
        return m.message_id;
      },
      (err: unknown) => {
        this.deps.logger.warning('could not send a job notice', { chatId: job.chatId, err });
        return undefined;
      },
    );
    this.cards.set(job.id, sending);
    try {
      await sending;
    } finally {
      // Kept while the job may still adopt it; a record with the id serves from then on.
      void sending.then(() => this.cards.delete(job.id));
    }
  }

  /** The job's card edited to `text` (the keyboard replaced, or taken away); a new message when there is no card or it cannot be edited. */
  private async showOnCard(job: JobRecord, text: string, keyboard?: InlineKeyboardMarkup): Promise<void> {
    const markup = keyboard !== undefined ? { reply_markup: keyboard } : {};
    const messageId = job.messageId ?? (await this.cardId(job));
    if (messageId !== undefined) {
      try {
        await this.deps.api.editMessageText({ chat_id: job.chatId, message_id: messageId, text, ...markup });
        return;
      } catch (err) {
        this.deps.logger.warning('could not edit a job\'s message; saying it in a new one', { jobId: job.id, err });
      }
    }
    await this.deps.api.sendMessage({ chat_id: job.chatId, text, ...markup });
  }

  private async tell(chatId: number, text: string): Promise<void> {
    try {
      await this.deps.api.sendMessage({ chat_id: chatId, text });
    } catch (err) {
      this.deps.logger.warning('could not send a job notice', { chatId, err });
    }
  }
}

function statusOf(flags: StopFlags, result: JobResult): JobStatus {
  if (flags.shutdown) return 'interrupted';
  if (result.cancelled || flags.stoppedBy !== undefined) return 'cancelled';
  return result.ok ? 'done' : 'failed';
}

function outcomeOf(result: JobResult, stoppedBy: StoppedBy | undefined): NonNullable<JobRecord['outcome']> {
  return {
    code: result.code,
    signal: result.signal,
    durationMs: result.durationMs,
    outputBytes: result.outputBytes,
    timedOut: result.timedOut,
    cancelled: result.cancelled,
    ...(result.failure !== undefined ? { failure: result.failure } : {}),
    ...(stoppedBy !== undefined ? { stoppedBy } : {}),
  };
}
