/**
 * The durable inbox: every received batch is on disk, with the next offset, *before* that offset
 * is confirmed to Telegram (the next getUpdates confirms it). So a kill -9 at any moment loses no
 * update — the inbox has it, or Telegram still does — and handles none twice: an update below the
 * stored offset was accepted before and is dropped if Telegram delivers it again.
 *
 * An entry leaves the inbox when its handler settles. Entries found at start are the previous
 * run's unfinished work; they are handed out again, marked `redelivered` if a handler may have
 * seen them (any entry after a crash; only started ones after a clean shutdown).
 */
import path from 'node:path';
import { type DurableStore, type Logger, openStore } from '@botvisor/core';
import type { Update } from 'node-telegram-bot-api';
import { z } from 'zod';
import type { HandlingLedger } from '../dispatch/dispatcher.js';

const entrySchema = z.object({
  update: z.looseObject({ update_id: z.number().int() }),
  receivedAt: z.string(),
  /** A handler began on it (written lazily: after a crash, treat every entry as possibly started). */
  started: z.boolean(),
  /** Runs of the bot that ended in a crash while this update may have been in a handler. */
  crashes: z.number().int().nonnegative().default(0),
});

const inboxSchema = z.object({
  /** The offset to confirm with the next getUpdates: highest accepted update_id + 1. */
  offset: z.number().int().nonnegative(),
  pending: z.array(entrySchema),
  /** True only while no process has the inbox open, after a clean close. */
  cleanShutdown: z.boolean(),
});

type InboxState = z.infer<typeof inboxSchema>;

export interface RecoveredUpdate {
  update: Update;
  redelivered: boolean;
}

export interface Recovery {
  /** To hand out again, in arrival order. */
  updates: RecoveredUpdate[];
  /** Poison updates: the bot crashed or hung this many times while one was in flight; skipped for good. */
  quarantined: Array<{ update: Update; crashes: number }>;
}

/** A crash with the update in flight twice, and it is not handed out a third time. */
export const MAX_CRASHES_PER_UPDATE = 2;

export interface InboxOptions {
  /** `data/bots/<name>` */
  botDir: string;
  /** `data/backups/<name>` */
  backupDir: string;
  logger: Logger;
}

/** The dispatcher's ledger: a handler's start and settle are recorded here. */
export class Inbox implements HandlingLedger {
  private constructor(private readonly store: DurableStore<InboxState>) {}

  static async open(options: InboxOptions): Promise<Inbox> {
    const store = await openStore<InboxState>({
      file: path.join(options.botDir, 'inbox.json'),
      defaults: () => ({ offset: 0, pending: [], cleanShutdown: true }),
      schema: inboxSchema,
      logger: options.logger,
      backupDir: options.backupDir,
      role: 'bot',
    });
    return new Inbox(store);
  }

  get offset(): number {
    return this.store.data.offset;
  }

  get pendingCount(): number {
    return this.store.data.pending.length;
  }

  /**
   * The previous run's unfinished updates, in arrival order, and marks this run as not yet cleanly
   * closed (durably, so a crash of this run is known to the next).
   *
   * After a crash, the updates that may have been in a handler — the oldest pending update of each
   * chat (updates of one chat run one at a time) and any marked started — count one more crash.
   * An update that has now been in flight during MAX_CRASHES_PER_UPDATE crashes is a poison update
   * (it hangs or kills the bot every time): it leaves the inbox and is reported, so the bot does
   * not crash-loop on it forever.
   */
  async recover(orderingKey: (update: Update) => string): Promise<Recovery> {
    // A backup restored over a corrupt file is older than what was handled since it was taken, so
    // its cleanShutdown flag says nothing about this file's updates: every leftover may have run.
    const clean = this.store.data.cleanShutdown && this.store.loaded.source !== 'backup';
    const result: Recovery = { updates: [], quarantined: [] };
    this.store.update((d) => {
      const headOfKey = new Set<string>();
      const keep: typeof d.pending = [];
      for (const e of d.pending) {
        const update = e.update as unknown as Update;
        const key = orderingKey(update);
        const mayHaveRun = e.started || !headOfKey.has(key);
        headOfKey.add(key);
        if (!clean && mayHaveRun) e.crashes++;
        if (e.crashes >= MAX_CRASHES_PER_UPDATE) {
          result.quarantined.push({ update: structuredClone(update), crashes: e.crashes });
          continue;
        }
        keep.push(e);
        result.updates.push({ update: structuredClone(update), redelivered: !clean || e.started });
        e.started = false;
      }
      d.pending = keep;
      d.cleanShutdown = false;
    });
    await this.store.flush();
    return result;
  }

  /**
   * Stores a batch durably and advances the offset; returns the updates that are new (not below
   * the offset, not already pending). Only after this resolves may the offset be confirmed.
   */
  async accept(updates: readonly Update[]): Promise<Update[]> {
    const fresh = this.store.update((d) => {
      const known = new Set(d.pending.map((e) => e.update.update_id));
      const out: Update[] = [];
      const now = new Date().toISOString();
      for (const u of updates) {
        if (u.update_id < d.offset || known.has(u.update_id)) continue;
        known.add(u.update_id);
        out.push(u);
        d.pending.push({ update: structuredClone(u) as unknown as InboxState['pending'][number]['update'], receivedAt: now, started: false, crashes: 0 });
      }
      const highest = Math.max(d.offset - 1, ...updates.map((u) => u.update_id));
      d.offset = highest + 1;
      return out;
    });
    await this.store.flush();
    return fresh;
  }

  markStarted(updateId: number): void {
    this.store.update((d) => {
      const entry = d.pending.find((e) => e.update.update_id === updateId);
      if (entry !== undefined) entry.started = true;
    });
  }

  /** The handler settled (done, failed or skipped): the update leaves the inbox. */
  settle(updateId: number): void {
    this.store.update((d) => {
      const i = d.pending.findIndex((e) => e.update.update_id === updateId);
      if (i >= 0) d.pending.splice(i, 1);
    });
  }

  async flush(): Promise<void> {
    await this.store.flush();
  }

  /** Records a clean shutdown (so unstarted entries are not marked redelivered next time) and closes. */
  async close(): Promise<void> {
    this.store.update((d) => {
      d.cleanShutdown = true;
    });
    await this.store.close();
  }
}
