/**
 * Keeps the job records in the bot's durable store, one synchronous `store.update` per change.
 * A check with its change can so never interleave with another: two taps in one tick cannot both
 * pass the queue limit or the daily quota; a Retry button tapped twice retries once. Finished
 * records beyond the most recent `keepFinished` are dropped. Each admission is also appended to
 * the quota ledger beside the jobs file (quota-ledger.ts), which `restoreQuota` reads at start:
 * a jobs file restored from an older backup cannot give users back quota they used.
 */
import path from 'node:path';
import type { DurableStore, ProcessRef } from '@botvisor/core';
import { isFinished, type JobOutcome, type JobRecord, type JobStatus, type JobsFile } from './job-record.js';
import { QuotaLedger } from './quota-ledger.js';

/** The ledger's file name, beside the jobs file. */
export const QUOTA_LEDGER_FILE = 'quota-ledger.txt';

export type NewJob = Pick<JobRecord, 'userId' | 'chatId' | 'command' | 'title' | 'argv' | 'timeoutMs'> &
  Partial<Pick<JobRecord, 'args' | 'cwd' | 'idleTimeoutMs' | 'updateId' | 'retryOf'>>;

export interface AdmissionLimits {
  /** Jobs waiting per user. */
  queueLimit: number;
  /** Jobs per user per UTC day; undefined = no quota for this user. */
  dailyQuota: number | undefined;
}

export type Admission =
  | { ok: true; job: JobRecord; duplicate: boolean }
  | { ok: false; reason: 'queue-full'; limit: number }
  | { ok: false; reason: 'quota-exceeded'; limit: number }
  | { ok: false; reason: 'already-retried'; retriedAs: number };

export class JobBook {
  constructor(
    private readonly store: DurableStore<JobsFile>,
    private readonly now: () => Date = () => new Date(),
    private readonly keepFinished = 200,
    private readonly ledger = new QuotaLedger(path.join(path.dirname(store.file), QUOTA_LEDGER_FILE)),
  ) {}

  /**
   * Start-up: raises today's per-user counts to what the ledger recorded, where the jobs file
   * knows fewer (it was restored from an older backup). Returns the users whose count was raised.
   */
  async restoreQuota(): Promise<Array<{ userId: number; from: number; to: number }>> {
    const day = this.today();
    const recorded = await this.ledger.load(day);
    return this.store.update((file) => {
      if (file.quota.day !== day) file.quota = { day, used: {} };
      const raised: Array<{ userId: number; from: number; to: number }> = [];
      for (const [userId, count] of recorded) {
        const key = String(userId);
        const used = file.quota.used[key] ?? 0;
        if (count <= used) continue;
        file.quota.used[key] = count;
        raised.push({ userId, from: used, to: count });
      }
      return raised;
    });
  }

  get(id: number): JobRecord | undefined {
    return this.store.data.jobs.find((j) => j.id === id) as JobRecord | undefined;
  }

  all(): readonly JobRecord[] {
    return this.store.data.jobs as readonly JobRecord[];
  }

  withStatus(status: JobStatus): JobRecord[] {
    return this.all().filter((j) => j.status === status);
  }

  /** Used today by `userId`. */
  usedToday(userId: number): number {
    const { quota } = this.store.data;
    return quota.day === this.today() ? (quota.used[String(userId)] ?? 0) : 0;
  }

  /** Adds a queued job if the limits allow — one atomic check-and-change. */
  admit(draft: NewJob, limits: AdmissionLimits): Admission {
    return this.store.update((file): Admission => {
      if (draft.updateId !== undefined) {
        const seen = file.jobs.find((j) => j.updateId === draft.updateId && j.chatId === draft.chatId);
        if (seen !== undefined) return { ok: true, job: { ...seen }, duplicate: true };
      }
      const original = draft.retryOf !== undefined ? file.jobs.find((j) => j.id === draft.retryOf) : undefined;
      if (original?.retriedAs !== undefined) return { ok: false, reason: 'already-retried', retriedAs: original.retriedAs };
      const waiting = file.jobs.filter((j) => j.userId === draft.userId && j.status === 'queued').length;
      if (waiting >= limits.queueLimit) return { ok: false, reason: 'queue-full', limit: limits.queueLimit };
      const day = this.today();
      if (file.quota.day !== day) file.quota = { day, used: {} };
      const key = String(draft.userId);
      const used = file.quota.used[key] ?? 0;
      if (limits.dailyQuota !== undefined && used >= limits.dailyQuota) return { ok: false, reason: 'quota-exceeded', limit: limits.dailyQuota };
      file.quota.used[key] = used + 1;
      const job: JobRecord = { ...draft, id: file.nextId++, status: 'queued', createdAt: this.now().toISOString() };
      file.jobs.push(job);
      // On disk by the next flush, like the record itself.
      this.ledger.record(day, draft.userId).catch(() => undefined);
      if (original !== undefined) original.retriedAs = job.id;
      return { ok: true, job: { ...job }, duplicate: false };
    });
  }

  markRunning(id: number): void {
    this.change(id, (j) => {
      j.status = 'running';
      j.startedAt = this.now().toISOString();
    });
  }

  /** `node`: the cluster node the process runs on (cluster mode only). */
  setProcess(id: number, process: ProcessRef & { marker: string; node?: string }): void {
    this.change(id, (j) => {
      j.process = { pid: process.pid, startTime: process.startTime, marker: process.marker, ...(process.node !== undefined ? { node: process.node } : {}) };
    });
  }

  finish(id: number, status: JobStatus, outcome?: JobOutcome, notified?: boolean): void {
    this.store.update((file) => {
      const job = file.jobs.find((j) => j.id === id);
      if (job === undefined || isFinished(job.status)) return;
      job.status = status;
      job.finishedAt = this.now().toISOString();
      delete job.process;
      if (outcome !== undefined) job.outcome = outcome;
      if (notified !== undefined) job.notified = notified;
      const finished = file.jobs.filter((j) => isFinished(j.status));
      if (finished.length > this.keepFinished) {
        const drop = new Set(finished.slice(0, finished.length - this.keepFinished).map((j) => j.id));
        file.jobs = file.jobs.filter((j) => !drop.has(j.id));
      }
    });
  }

  /** After a restart: every job still marked running was interrupted. Returns them as they were. */
  interruptRunning(): JobRecord[] {
    return this.store.update((file) => {
      const was: JobRecord[] = [];
      for (const job of file.jobs) {
        if (job.status !== 'running') continue;
        was.push({ ...job });
        job.status = 'interrupted';
        job.finishedAt = this.now().toISOString();
        job.notified = false;
        delete job.process;
      }
      return was;
    });
  }

  /** The job's card: the message its status and output are edited into. */
  setMessage(id: number, messageId: number): void {
    this.change(id, (j) => {
      j.messageId = messageId;
    });
  }

  markNotified(id: number): void {
    this.change(id, (j) => {
      j.notified = true;
    });
  }

  /** Resolves once every change so far is on disk, the quota ledger included. */
  async flush(): Promise<void> {
    await Promise.all([this.store.flush(), this.ledger.settled()]);
  }

  private change(id: number, fn: (job: JobRecord) => void): void {
    this.store.update((file) => {
      const job = file.jobs.find((j) => j.id === id);
      if (job !== undefined) fn(job);
    });
  }

  private today(): string {
    return this.now().toISOString().slice(0, 10);
  }
}
