/**
 * The durable inbox: every received batch is on disk, with the next offset, *before* that offset
 * is confirmed to Telegram (the next getUpdates confirms it). So a kill -9 at any moment loses no
 * update — the inbox has it, or Telegram still does — and handles none twice: an update the server
 * hands out again (same id, same content: see recent-updates.ts) is recognised and skipped.
 *
 * Nothing is dropped silently. Ids that go back below the offset, new ones, are a new id epoch (a
 * restarted Bot API server, Telegram after a quiet week): one WARNING, and they are accepted. The
 * inbox belongs to one Telegram bot (the token's numeric prefix, which survives a token revoke):
 * opened for another bot, it starts fresh with a WARNING.
 *
 * Changes are appended to a journal and folded into `inbox.json` from time to time (see
 * inbox-journal.ts): an accepted batch is fdatasync'd before `accept` resolves; a handler's start
 * and settle are not waited for (a settle lost to a crash only makes a redelivery, marked).
 *
 * An entry leaves the inbox when its handler settles. Entries found at start are the previous
 * run's unfinished work; they are handed out again, marked `redelivered` if a handler may have
 * seen them (any entry after a crash; only started ones after a clean shutdown).
 */
import path from 'node:path';
import { type DurableStore, type Logger, openStore } from '@botvisor/core';
import type { Update } from 'node-telegram-bot-api';
import * as z from 'zod'; // a namespace import, so a bundle keeps only the parts used (not zod's 64 locales)
import type { HandlingLedger } from '../dispatch/dispatcher.js';
import { reportSorted, sortBatch } from './batch-sorter.js';
import { InboxJournal } from './inbox-journal.js';
import type { UpdateInbox } from './update-inbox.js';

const entrySchema = z.object({
  update: z.looseObject({ update_id: z.number().int() }),
  receivedAt: z.string(),
  /** A handler began on it (written lazily: after a crash, treat every entry as possibly started). */
  started: z.boolean(),
  /** Runs of the bot that ended in a crash while this update may have been in a handler. */
  crashes: z.number().int().nonnegative().default(0),
});

const inboxSchema = z.object({
  /** The Telegram bot these updates are for (the token's prefix); null in files written before it was stored. */
  botId: z.string().nullable().default(null),
  /** The offset to confirm with the next getUpdates: the last batch's highest update_id + 1. */
  offset: z.number().int().nonnegative(),
  pending: z.array(entrySchema),
  /** The newest accepted updates, `[update_id, fingerprint]`, for duplicate detection (recent-updates.ts). */
  recent: z.array(z.tuple([z.number().int(), z.string()])).default([]),
  /** True only while no process has the inbox open, after a clean close. */
  cleanShutdown: z.boolean(),
  /** The number of the last journal record this state holds (inbox-records.ts). */
  journalSeq: z.number().int().nonnegative().default(0),
});

export type InboxState = z.infer<typeof inboxSchema>;

export interface RecoveredUpdate {
  update: Update;
  redelivered: boolean;
}

/** A new update from the server, `redelivered` if a handler of an earlier run may have seen it. */
export type AcceptedUpdate = RecoveredUpdate;

/**
 * How many updates a previous run can have accepted without the server forgetting them: its last
 * batch (Telegram's cap on one getUpdates answer), since each getUpdates confirms the batch before.
 */
const UNCONFIRMED_AT_MOST = 100;

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
  /** The Telegram bot id: the token's numeric prefix, before ':'. */
  botId: string;
}

/** The dispatcher's ledger: a handler's start and settle are recorded here. */
export class Inbox implements HandlingLedger, UpdateInbox {
  /**
   * After the file was lost (restored from an older backup, or unreadable with none), the previous
   * run's last batch may have been handled without a trace here; the server still holds it (its
   * offset was never confirmed) and hands it out first. So the first updates received, as many as
   * one batch can hold, are marked `redelivered`: the only thing this run cannot tell is whether
   * they ran, and a marked repeat is the contract where an unmarked one is a bug.
   */
  private unsureLeft: number;

  private constructor(
    private readonly store: DurableStore<InboxState>,
    private readonly journal: InboxJournal,
    private readonly logger: Logger,
  ) {
    const lost = store.loaded.source === 'backup' || store.loaded.source === 'defaults';
    this.unsureLeft = lost ? UNCONFIRMED_AT_MOST : 0;
    if (lost) logger.warning('the inbox file was lost and its state came from a backup or started empty: the first updates the server hands out are marked redelivered, as the previous run may have handled them', { source: store.loaded.source, markedAtMost: UNCONFIRMED_AT_MOST });
  }

  static async open(options: InboxOptions): Promise<Inbox> {
    const store = await openStore<InboxState>({
      file: path.join(options.botDir, 'inbox.json'),
      defaults: () => ({ botId: options.botId, offset: 0, pending: [], recent: [], cleanShutdown: true, journalSeq: 0 }),
      schema: inboxSchema,
      logger: options.logger,
      backupDir: options.backupDir,
      role: 'bot',
    });
    let journal: InboxJournal;
    try {
      journal = await InboxJournal.open(store, options.logger);
    } catch (err) {
      await store.close();
      throw err;
    }
    const inbox = new Inbox(store, journal, options.logger);
    await inbox.claimFor(options.botId);
    return inbox;
  }

  /**
   * Makes the inbox this bot's. Another bot's offset would make this one deaf to its first updates
   * and its leftovers would be answered by the wrong bot, so another bot's inbox starts fresh.
   */
  private async claimFor(botId: string): Promise<void> {
    const stored = this.store.data.botId;
    if (stored === botId) return;
    if (stored !== null) {
      const dropped = this.store.data.pending.map((e) => e.update.update_id);
      this.logger.warning('the token now belongs to another Telegram bot than this inbox was for: starting with a fresh inbox (the old bot\'s unfinished updates are dropped)', {
        storedBotId: stored,
        botId,
        storedOffset: this.store.data.offset,
        droppedUpdateIds: dropped,
      });
    }
    this.store.update((d) => {
      d.botId = botId;
      if (stored === null) return; // written before the bot id was stored: nothing says it was another bot's
      d.offset = 0;
      d.pending = [];
      d.recent = [];
      d.cleanShutdown = true;
    });
    await this.journal.save();
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
    await this.journal.save();
    return result;
  }

  /**
   * Stores a batch durably and sets the offset to confirm it (its highest id + 1, lower than
   * before in a new id epoch); returns the updates that are new, i.e. not handed out before (see
   * recent-updates.ts), each `redelivered` if an earlier run may have handled it (see unsureLeft).
   * Every update must have a numeric id (the poll loop checks). Only after this resolves may the
   * offset be confirmed.
   */
  async accept(updates: readonly Update[]): Promise<AcceptedUpdate[]> {
    if (updates.length === 0) return [];
    const d = this.store.data;
    const sorted = sortBatch(updates, { recent: d.recent as ReadonlyArray<readonly [number, string]>, pending: d.pending, storedOffset: d.offset });
    // Counts every position of the server's queue, duplicates too: the lost batch was a prefix of it.
    const unsureBefore = this.unsureLeft;
    this.unsureLeft = Math.max(0, unsureBefore - updates.length);
    const out: AcceptedUpdate[] = [];
    const accepted: Array<{ update: InboxState['pending'][number]['update']; fingerprint: string }> = [];
    for (const { update, fingerprint, position } of sorted.fresh) {
      out.push({ update, redelivered: position < unsureBefore });
      accepted.push({ update: structuredClone(update) as unknown as InboxState['pending'][number]['update'], fingerprint });
    }
    // Confirms exactly this batch: keeping a higher offset from before a new epoch would make
    // the server forget that epoch's next updates unseen.
    const offset = Math.max(...updates.map((u) => u.update_id)) + 1;
    this.journal.record({ accepted, receivedAt: new Date().toISOString(), offset });
    await this.journal.commit();
    reportSorted(sorted, this.logger);
    return out;
  }

  /** Marks the oldest unstarted entry with that id (two share one only across an id epoch). */
  markStarted(updateId: number): void {
    if (this.store.data.pending.some((e) => e.update.update_id === updateId && !e.started)) this.journal.record({ started: updateId });
  }

  /** The handler settled (done, failed or skipped): the update leaves the inbox (a started entry with that id first). */
  settle(updateId: number): void {
    if (this.store.data.pending.some((e) => e.update.update_id === updateId)) this.journal.record({ settled: updateId });
  }

  async flush(): Promise<void> {
    await this.journal.flush();
    await this.store.flush();
  }

  /** Records a clean shutdown (so unstarted entries are not marked redelivered next time) and closes. */
  async close(): Promise<void> {
    this.store.update((d) => {
      d.cleanShutdown = true;
    });
    await this.journal.close();
    await this.store.close();
  }

  /**
   * A reload's hand-over: records the clean shutdown in the journal and closes without folding
   * it into `inbox.json` — the new process, which waits for this inside the poll gap, replays
   * the journal instead of waiting for a rewrite of the whole file and its fsyncs.
   */
  async handOver(): Promise<void> {
    this.journal.record({ closed: true });
    await this.journal.release();
    await this.store.close();
  }
}
