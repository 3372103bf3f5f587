/**
 * The cluster inbox: the token's pending updates, offset and recent ids in PostgreSQL, shared by
 * the nodes, each write fenced by the lease epoch the supervisor gave this run (inbox-tables.ts).
 * It keeps the file inbox's promises (inbox.ts): a batch is in the database, with its offset,
 * before that offset is confirmed; the previous holder's unsettled updates come back at start,
 * marked `redelivered` where a handler may have seen them; an update the server hands out again
 * is recognised by its id and fingerprint (recent-updates.ts) — across nodes, since the recent
 * ids are shared too.
 *
 * This process is the only writer while its epoch is the lease's, so it keeps the rows in memory
 * and writes only changes: one statement per polled batch; starts and settles coalesced into one
 * statement every SETTLE_EVERY_MS (a lost one costs a marked redelivery, never an unmarked
 * duplicate: after an unclean end every entry that may have run is redelivered). A write refused
 * for an older epoch means another node holds the token now: `onFenced` is told, once, and the
 * bot must stop — nothing it writes counts any more.
 */
import type { Logger } from '@botvisor/core';
import type { Update } from 'node-telegram-bot-api';
import type pg from 'pg';
import { InboxFencedError } from '../cluster/lease-fenced-error.js';
import { openLeasePool, readLeaseEpoch } from '../cluster/lease-pool.js';
import { LeaseRefusal } from '../cluster/lease-refusal.js';
import { reportSorted, sortBatch } from './batch-sorter.js';
import { type AcceptedUpdate, MAX_CRASHES_PER_UPDATE, type Recovery } from './inbox.js';
import { ACCEPT, CHANGE, ENSURE_ROW, INBOX_SCHEMA, READ_ENTRIES, READ_LAST_SEQ, READ_RECENT, READ_ROW } from './inbox-tables.js';
import { RECENT_UPDATES_KEPT, type RecentUpdate } from './recent-updates.js';
import type { UpdateInbox } from './update-inbox.js';

export { InboxFencedError };

/** How long starts and settles gather before they are written. */
export const SETTLE_EVERY_MS = 100;

export interface PostgresInboxOptions {
  /** Carries a password: registered with the log redaction by the caller, never logged here. */
  connectionString: string;
  tokenHash: string;
  /** The lease epoch this run holds, from the supervisor's hello. */
  epoch: number;
  /** The Telegram bot id (the token's numeric prefix), stored beside the rows for a person reading them. */
  botId: string;
  logger: Logger;
  /** The first refused write (at most once): the bot must stop polling and exit. */
  onFenced: (err: InboxFencedError) => void;
  /** A statement (or a connection) that takes longer fails, its connection dropped. Default 5 s. */
  queryTimeoutMs?: number;
  /** Default SETTLE_EVERY_MS. */
  settleEveryMs?: number;
}

interface Entry {
  seq: number;
  update: Update;
  started: boolean;
  crashes: number;
}

export class PostgresInbox implements UpdateInbox {
  private pending: Entry[] = [];
  private recent: Array<RecentUpdate & { seq: number }> = [];
  private storedOffset = 0;
  private lastSeq = 0;
  private cleanShutdown = true;
  /** Entries whose `started` changed since the last write. */
  private readonly marked = new Map<number, Entry>();
  /** Seqs settled since the last write. */
  private readonly settled = new Set<number>();
  private settleTimer: NodeJS.Timeout | undefined;
  /** Writes go one at a time, in order. */
  private writing: Promise<unknown> = Promise.resolve();
  private readonly refusal: LeaseRefusal<InboxFencedError>;
  private closed = false;
  private readonly settleEveryMs: number;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly o: PostgresInboxOptions,
  ) {
    this.settleEveryMs = o.settleEveryMs ?? SETTLE_EVERY_MS;
    this.refusal = new LeaseRefusal((current) => new InboxFencedError(o.epoch, current), o.onFenced, () => readLeaseEpoch(pool, o.tokenHash));
  }

  /** Connects, creates the tables if this is the first bot to use them, and loads the token's rows. */
  static async open(o: PostgresInboxOptions): Promise<PostgresInbox> {
    const pool = await openLeasePool({
      ...o,
      applicationName: 'botvisor-bot',
      schema: INBOX_SCHEMA,
      afterSchema: (p) => p.query(ENSURE_ROW, [o.tokenHash, o.botId]),
      fenced: (current) => new InboxFencedError(o.epoch, current),
    });
    const inbox = new PostgresInbox(pool, o);
    try {
      await inbox.load();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return inbox;
  }

  get offset(): number {
    return this.storedOffset;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** As the file inbox's (inbox.ts `recover`): the previous holder's unfinished updates; poison ones leave. */
  async recover(orderingKey: (update: Update) => string): Promise<Recovery> {
    const clean = this.cleanShutdown;
    const result: Recovery = { updates: [], quarantined: [] };
    const headOfKey = new Set<string>();
    const keep: Entry[] = [];
    const changed: Entry[] = [];
    const dropped: number[] = [];
    for (const e of this.pending) {
      const key = orderingKey(e.update);
      const mayHaveRun = e.started || !headOfKey.has(key);
      headOfKey.add(key);
      const crashes = !clean && mayHaveRun ? e.crashes + 1 : e.crashes;
      if (crashes >= MAX_CRASHES_PER_UPDATE) {
        result.quarantined.push({ update: structuredClone(e.update), crashes });
        dropped.push(e.seq);
        continue;
      }
      result.updates.push({ update: structuredClone(e.update), redelivered: !clean || e.started });
      if (crashes !== e.crashes || e.started) changed.push(e);
      e.crashes = crashes;
      e.started = false;
      keep.push(e);
    }
    this.pending = keep;
    this.cleanShutdown = false;
    await this.serial(() => this.writeChange(changed, dropped, false)); // durably unclean: a crash of this run is known to the next
    return result;
  }

  /** As the file inbox's `accept`: one fenced statement for the batch, its recent ids and its offset. */
  async accept(updates: readonly Update[]): Promise<AcceptedUpdate[]> {
    if (updates.length === 0) return [];
    this.refusal.throwIfRefused();
    const sorted = sortBatch(updates, { recent: this.recent, pending: this.pending, storedOffset: this.storedOffset });
    const fresh: Entry[] = [];
    const remembered: Array<RecentUpdate & { seq: number }> = [];
    let seq = this.lastSeq;
    for (const { update, fingerprint } of sorted.fresh) {
      seq++;
      fresh.push({ seq, update: structuredClone(update), started: false, crashes: 0 });
      remembered.push(Object.assign([update.update_id, fingerprint] as RecentUpdate, { seq }));
    }
    // Confirms exactly this batch (see inbox.ts): a new id epoch's offset may be lower than before.
    const offset = Math.max(...updates.map((u) => u.update_id)) + 1;
    const recent = [...this.recent, ...remembered].slice(-RECENT_UPDATES_KEPT);
    const forgetUpTo = recent.length === 0 ? 0 : (recent[0] as { seq: number }).seq - 1;
    await this.serial(async () => {
      const r = await this.pool.query(ACCEPT, [
        this.o.tokenHash,
        this.o.epoch,
        JSON.stringify(fresh.map((e) => ({ seq: e.seq, update_id: e.update.update_id, body: e.update }))),
        JSON.stringify(remembered.map((m) => ({ seq: m.seq, update_id: m[0], fingerprint: m[1] }))),
        offset,
        forgetUpTo,
      ]);
      if (r.rowCount !== 1) await this.refusal.refuse();
    });
    // Durable: only now does memory move on, so a failed write leaves nothing half-applied here.
    this.lastSeq = seq;
    this.pending.push(...fresh);
    this.recent = recent;
    this.storedOffset = offset;
    reportSorted(sorted, this.o.logger);
    // Never lost like a file can be: what the rows say was handled was handled, so nothing new is marked.
    return fresh.map((e) => ({ update: structuredClone(e.update), redelivered: false }));
  }

  /** Marks the oldest unstarted entry with that id; written with the next coalesced change. */
  markStarted(updateId: number): void {
    const entry = this.pending.find((e) => e.update.update_id === updateId && !e.started);
    if (entry === undefined) return;
    entry.started = true;
    this.marked.set(entry.seq, entry);
    this.scheduleChange();
  }

  /** The handler settled: the entry leaves (a started one with that id first); written with the next coalesced change. */
  settle(updateId: number): void {
    let i = this.pending.findIndex((e) => e.update.update_id === updateId && e.started);
    if (i < 0) i = this.pending.findIndex((e) => e.update.update_id === updateId);
    if (i < 0) return;
    const [entry] = this.pending.splice(i, 1) as [Entry];
    this.marked.delete(entry.seq);
    this.settled.add(entry.seq);
    this.scheduleChange();
  }

  /** Writes the gathered starts and settles now. */
  async flush(): Promise<void> {
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    await this.serial(() => this.writeGathered(this.cleanShutdown));
  }

  /** Writes what is gathered with the clean-shutdown mark, and disconnects. A failure is logged, not thrown: the next holder then redelivers, marked. */
  /** The same as `close`: the rows are shared, nothing is left to fold. */
  handOver(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.settleTimer);
    try {
      if (this.refusal.error === undefined) await this.serial(() => this.writeGathered(true));
    } catch (err) {
      this.o.logger.warning('could not record a clean shutdown in the cluster inbox; the next holder hands its updates out again, marked redelivered', { err });
    }
    await this.pool.end().catch(() => undefined);
  }

  private async load(): Promise<void> {
    const { tokenHash } = this.o;
    const row = (await this.pool.query<{ update_offset: string; clean_shutdown: boolean }>(READ_ROW, [tokenHash])).rows[0];
    if (row === undefined) throw new Error('the cluster inbox row vanished right after it was made');
    this.storedOffset = Number(row.update_offset);
    this.cleanShutdown = row.clean_shutdown;
    const entries = await this.pool.query<{ seq: string; body: Update; started: boolean; crashes: number }>(READ_ENTRIES, [tokenHash]);
    this.pending = entries.rows.map((r) => ({ seq: Number(r.seq), update: r.body, started: r.started, crashes: r.crashes }));
    const recent = await this.pool.query<{ seq: string; update_id: string; fingerprint: string }>(READ_RECENT, [tokenHash, RECENT_UPDATES_KEPT]);
    this.recent = recent.rows.map((r) => Object.assign([Number(r.update_id), r.fingerprint] as RecentUpdate, { seq: Number(r.seq) }));
    this.lastSeq = Number((await this.pool.query<{ seq: string }>(READ_LAST_SEQ, [tokenHash])).rows[0]?.seq ?? 0);
  }

  private scheduleChange(): void {
    if (this.settleTimer !== undefined || this.closed || this.refusal.error !== undefined) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      void this.serial(() => this.writeGathered(this.cleanShutdown)).catch((err: unknown) => {
        if (err instanceof InboxFencedError) return; // onFenced has been told
        // Kept for the next try: a lost write here costs at most a marked redelivery.
        this.o.logger.warning('could not write settled updates to the cluster inbox; trying again', { err });
        this.scheduleChange();
      });
    }, this.settleEveryMs);
    this.settleTimer.unref();
  }

  /** One statement for every start and settle gathered so far; on a failure (not a refusal) they are gathered again. */
  private async writeGathered(clean: boolean): Promise<void> {
    const marked = [...this.marked.values()];
    const settled = [...this.settled];
    this.marked.clear();
    this.settled.clear();
    try {
      await this.writeChange(marked, settled, clean);
    } catch (err) {
      for (const e of marked) if (!this.settled.has(e.seq) && this.pending.includes(e)) this.marked.set(e.seq, e);
      for (const seq of settled) this.settled.add(seq);
      throw err;
    }
  }

  private async writeChange(changed: readonly Entry[], dropped: readonly number[], clean: boolean): Promise<void> {
    this.refusal.throwIfRefused();
    const rows = JSON.stringify(changed.map((e) => ({ seq: e.seq, started: e.started, crashes: e.crashes })));
    const r = await this.pool.query(CHANGE, [this.o.tokenHash, this.o.epoch, rows, dropped, clean]);
    if (r.rowCount !== 1) await this.refusal.refuse();
  }


  private serial<T>(write: () => Promise<T>): Promise<T> {
    const run = this.writing.then(write, write);
    this.writing = run.catch(() => undefined);
    return run;
  }
}
