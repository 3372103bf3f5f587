/**
 * How the inbox's changes reach the disk: each one is a record appended to a journal beside
 * `inbox.json` (core's journal.ts), applied to the state in memory at the same moment, and the
 * journal is compacted into `inbox.json` (the durable store's atomic rewrite) when it has grown
 * past COMPACT_AFTER_RECORDS, at open and at close. So a settled handler costs one short line in
 * the page cache instead of a rewrite of the whole inbox with two fsyncs; only `commit()` — the
 * inbox's accept, before an offset is confirmed — waits for an fdatasync, shared by all records
 * appended meanwhile.
 *
 * At open the records the snapshot does not hold yet (by number: see inbox-records.ts) are
 * replayed onto it — also onto a backup restored over a corrupt snapshot, which gets back what
 * the journal still has of the changes since that backup. The replayed segments stay until the
 * next snapshot is written (`save()`, which the inbox's recovery calls anyway): writing one at
 * open as well would only add a rewrite and its fsyncs to a reload's poll gap.
 *
 * A reload's hand-over closes without folding (`release()`): the new process replays instead.
 */
import { rm } from 'node:fs/promises';
import { type DurableStore, Journal, type Logger, listSegments, readJournal } from '@botvisor/core';
import type { InboxState } from './inbox.js';
import { applyRecord, type InboxRecord, isInboxRecord } from './inbox-records.js';

/** Records after which the journal is folded into the snapshot: bounds the replay at start and the journal's size. */
export const COMPACT_AFTER_RECORDS = 5000;

type Unnumbered<R> = R extends InboxRecord ? Omit<R, 'n'> : never;

export class InboxJournal {
  private compacting: Promise<void> | undefined;

  private constructor(
    private readonly store: DurableStore<InboxState>,
    private readonly journal: Journal<InboxRecord>,
    private readonly logger: Logger,
    /** Segments of earlier runs, replayed at open: deleted once a snapshot holding them is written. */
    private replayed: string[],
  ) {}

  /** Replays what the snapshot lacks, writes it as the new snapshot and opens a fresh journal. */
  static async open(store: DurableStore<InboxState>, logger: Logger): Promise<InboxJournal> {
    const records = await readJournal({ file: store.file, afterSeq: store.data.journalSeq, check: isInboxRecord, logger });
    if (records.length > 0) {
      store.amend((d) => {
        for (const r of records) applyRecord(d, r);
      });
      logger.info('replayed the inbox journal onto the snapshot', { records: records.length, from: records[0]?.n, to: records.at(-1)?.n });
    }
    const older = await listSegments(store.file);
    const journal = new Journal<InboxRecord>({ file: store.file, nextSeq: store.data.journalSeq + 1, logger });
    // The older segments, replayed or not, are all held by the state now and go once it is the
    // snapshot. (A fresh segment with an old one's name holds no record the state lacks: it was
    // truncated on opening.)
    return new InboxJournal(store, journal, logger, older.filter((segment) => segment !== journal.path));
  }

  /** Writes the state as the snapshot (durably); the segments replayed at open can go then. */
  async save(): Promise<void> {
    this.store.update(() => undefined);
    await this.store.flush();
    await this.dropReplayed();
  }

  /** Appends the change and applies it to the state; durable at the next `commit()` (or within a second). */
  record(change: Unnumbered<InboxRecord>): void {
    const numbered = this.journal.append(change) as InboxRecord;
    this.store.amend((d) => applyRecord(d, numbered));
    if (this.journal.recordsInSegment >= COMPACT_AFTER_RECORDS && this.compacting === undefined) {
      this.compacting = this.compact()
        .catch((err: unknown) => this.logger.error('could not compact the inbox journal into the snapshot: it keeps growing until a compaction succeeds', { file: this.store.file, err }))
        .finally(() => {
          this.compacting = undefined;
        });
    }
  }

  /** Resolves once every change recorded so far is durable. */
  commit(): Promise<void> {
    return this.journal.commit();
  }

  /** `commit()`, and waits for a compaction that is under way. */
  async flush(): Promise<void> {
    await this.compacting;
    await this.journal.commit();
  }

  /** Folds the journal into the snapshot (the caller then closes the store); deletes the journal. */
  async close(): Promise<void> {
    await this.compacting;
    this.store.update(() => undefined);
    await this.store.flush();
    await this.journal.close({ remove: true });
    await this.dropReplayed();
  }

  /**
   * Makes every record durable and closes without folding: the segments stay for the next opener
   * to replay (a reload's hand-over, where that opener is waiting). The caller closes the store,
   * which then has nothing to write.
   */
  async release(): Promise<void> {
    await this.compacting;
    await this.journal.close({ remove: false });
  }

  private async dropReplayed(): Promise<void> {
    const replayed = this.replayed;
    this.replayed = [];
    for (const segment of replayed) await rm(segment, { force: true });
  }

  /**
   * Rotates, so later records go to a new segment, and writes the state — which holds every record
   * of the older segments — as the snapshot; then those segments can go.
   */
  private async compact(): Promise<void> {
    this.journal.rotate();
    this.store.update(() => undefined);
    await this.store.flush();
    await this.journal.dropRetired();
    await this.dropReplayed();
  }
}
