/**
 * An append-only journal of JSON records beside a store file: the cheap way to make small changes
 * durable without rewriting the whole file. One record a line, each numbered (`n`, rising by one),
 * in segments named by their first number: `<file>.journal.<n>.jsonl`.
 *
 * Appends reach the page cache within the same tick (one write for all records of the tick), so a
 * kill -9 keeps them; `commit()` makes them durable (fdatasync), and commits that arrive while a
 * sync runs share the next one (group commit). Records that nobody commits are synced within
 * `syncIntervalMs`, which bounds what a power loss can take. A failed write is retried in a new
 * segment; a failed commit rejects, and the next one tries again.
 *
 * Compaction is the owner's job: it `rotate()`s (later records go to a new segment), writes its
 * snapshot, which must record the last number it holds, and then `dropRetired()`. Replay on open
 * skips records the snapshot already holds, so a crash between the two steps repeats nothing.
 * Reading ignores a torn last line (a kill mid-append) with a WARNING; any other bad line is an
 * ERROR, and the segment is kept aside as a `.corrupt-<stamp>` copy. Knows nothing of the records'
 * meaning.
 */
import fs from 'node:fs';
import { copyFile, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { PRIVATE_FILE_MODE } from '../fs/private-paths.js';
import type { Logger } from '../log/logger.js';
import { DirectoryHandle } from './durable-write.js';
import { escapeRegExp, fileStamp } from './file-stamp.js';

/** What every record carries: its number in the journal. */
export interface Numbered {
  n: number;
}

export interface JournalOptions {
  /** The store file the journal belongs to; segments are written beside it. */
  file: string;
  /** The number of the first record to append: one more than the last the snapshot holds. */
  nextSeq: number;
  logger: Logger;
  /** Appended records are fdatasync'd at the latest this long after, if no commit did it. Default 1000 ms. */
  syncIntervalMs?: number;
}

interface Segment {
  path: string;
  fd: number;
}

interface CommitWaiter {
  seq: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const DEFAULT_SYNC_INTERVAL_MS = 1000;

function segmentPattern(file: string): RegExp {
  return new RegExp(`^${escapeRegExp(path.basename(file))}\\.journal\\.(\\d+)\\.jsonl$`);
}

function segmentPath(file: string, firstSeq: number): string {
  return `${file}.journal.${String(firstSeq).padStart(12, '0')}.jsonl`;
}

/** The journal's segments on disk, oldest first. */
export async function listSegments(file: string): Promise<string[]> {
  const pattern = segmentPattern(file);
  let names: string[];
  try {
    names = await readdir(path.dirname(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((name) => ({ name, first: Number(pattern.exec(name)?.[1]) }))
    .filter((s) => Number.isSafeInteger(s.first))
    .sort((a, b) => a.first - b.first)
    .map((s) => path.join(path.dirname(file), s.name));
}

export interface ReadJournalOptions<R extends Numbered> {
  file: string;
  /** Records numbered up to this one are in the snapshot already: skipped. */
  afterSeq: number;
  /** True if one parsed line is a record. */
  check: (raw: unknown) => raw is R;
  logger: Logger;
}

/** Every record after `afterSeq`, in order, from all segments (see the module header for bad lines). */
export async function readJournal<R extends Numbered>(options: ReadJournalOptions<R>): Promise<R[]> {
  const { file, logger } = options;
  const records: R[] = [];
  for (const segment of await listSegments(file)) {
    const text = await readFile(segment, 'utf8');
    const lines = text.split('\n');
    // Whatever follows the last newline was cut short by a kill mid-append.
    const torn = lines.pop() ?? '';
    if (torn !== '') logger.warning('ignoring the torn last line of a journal (the process was killed while appending it)', { file: segment, bytes: Buffer.byteLength(torn) });
    let bad = 0;
    let last = options.afterSeq;
    for (const line of lines) {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        raw = undefined;
      }
      if (!options.check(raw)) {
        bad++;
        continue;
      }
      // A line written again after a failed write (see Journal.drain) comes twice: once is enough.
      if (raw.n <= last) continue;
      last = raw.n;
      records.push(raw);
    }
    if (bad > 0) {
      const corruptCopy = `${segment}.corrupt-${fileStamp(Date.now())}`;
      await copyFile(segment, corruptCopy);
      logger.error('a journal holds lines that are not records: skipped them and kept a copy', { file: segment, badLines: bad, corruptCopy });
    }
  }
  return records;
}

/** The open journal: appends to its newest segment. */
export class Journal<R extends Numbered> {
  private segment: Segment;
  /** Segments replaced by `rotate()`, still to be synced and closed, and deleted by `dropRetired()`. */
  private retired: Segment[] = [];
  private lastSeq: number;
  /** Lines appended but not yet written. */
  private buffer: string[] = [];
  private drainQueued = false;
  /** The last record written to the page cache, and the last one fdatasync'd. */
  private writtenSeq: number;
  private syncedSeq: number;
  private syncing = false;
  private dirNeedsSync = true;
  private waiters: CommitWaiter[] = [];
  private syncTimer: NodeJS.Timeout | undefined;
  /** The last write failed: the segment may end in part of a line, so the next write starts a new one. */
  private writeFailure: unknown;
  private closed = false;
  private readonly dir: DirectoryHandle;
  private readonly syncIntervalMs: number;
  /** Records in the current segment (the owner compacts when it grows). */
  recordsInSegment = 0;

  constructor(private readonly options: JournalOptions) {
    this.lastSeq = options.nextSeq - 1;
    this.writtenSeq = this.lastSeq;
    this.syncedSeq = this.lastSeq;
    this.syncIntervalMs = options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
    this.dir = new DirectoryHandle(path.dirname(options.file));
    this.segment = this.openSegment(options.nextSeq);
  }

  /** The segment records are appended to now. */
  get path(): string {
    return this.segment.path;
  }

  /** The number of the last record appended. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Numbers `record`, queues it for the page cache (this tick) and returns it numbered. */
  append<T extends Omit<R, 'n'>>(record: T): T & Numbered {
    if (this.closed) throw new Error(`${this.options.file}: the journal is closed`);
    this.lastSeq += 1;
    const numbered = { n: this.lastSeq, ...record };
    this.buffer.push(JSON.stringify(numbered));
    this.recordsInSegment++;
    if (!this.drainQueued) {
      this.drainQueued = true;
      queueMicrotask(() => this.drain());
    }
    this.syncTimer ??= setTimeout(() => {
      this.syncTimer = undefined;
      this.commit().catch(() => undefined); // reported by drain or sync already
    }, this.syncIntervalMs).unref();
    return numbered;
  }

  /** Resolves once every record appended before the call is fdatasync'd; rejects if a write or sync failed. */
  commit(): Promise<void> {
    this.drain();
    if (this.writeFailure !== undefined) return Promise.reject(this.writeFailure);
    const seq = this.writtenSeq;
    if (this.syncedSeq >= seq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      void this.syncLoop();
    });
  }

  /** Starts a new segment for the records appended from now on; the old one waits for `dropRetired()`. */
  rotate(): void {
    this.drain();
    this.startSegment(this.writtenSeq + 1);
  }

  /** Deletes the segments replaced by `rotate()`: call once a snapshot holding their records is durable. */
  async dropRetired(): Promise<void> {
    await this.syncLoopIdle();
    const retired = this.retired;
    this.retired = [];
    for (const s of retired) {
      fs.closeSync(s.fd);
      await rm(s.path, { force: true });
    }
  }

  /** Syncs what was appended and closes; with `remove`, deletes every segment (a snapshot holds them all). */
  async close({ remove }: { remove: boolean }): Promise<void> {
    if (this.closed) return;
    await this.commit().catch(() => undefined);
    this.closed = true;
    if (this.syncTimer !== undefined) clearTimeout(this.syncTimer);
    await this.syncLoopIdle();
    for (const s of [...this.retired, this.segment]) {
      fs.closeSync(s.fd);
      if (remove) await rm(s.path, { force: true });
    }
    this.retired = [];
    await this.dir.close();
  }

  private startSegment(firstSeq: number): void {
    this.retired.push(this.segment);
    this.segment = this.openSegment(firstSeq);
    this.recordsInSegment = this.lastSeq - this.writtenSeq;
  }

  private openSegment(firstSeq: number): Segment {
    const file = segmentPath(this.options.file, firstSeq);
    // A leftover segment with this name holds only records the snapshot has (or none): start it afresh.
    const { O_WRONLY, O_CREAT, O_TRUNC, O_APPEND } = fs.constants;
    const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, PRIVATE_FILE_MODE);
    this.dirNeedsSync = true;
    return { path: file, fd };
  }

  /** Writes the buffered lines to the current segment in one call (page cache: survives a kill -9). */
  private drain(): void {
    this.drainQueued = false;
    if (this.buffer.length === 0) return;
    try {
      if (this.writeFailure !== undefined) this.startSegment(this.writtenSeq + 1);
      const bytes = Buffer.from(`${this.buffer.join('\n')}\n`, 'utf8');
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(this.segment.fd, bytes, off, bytes.length - off);
    } catch (err) {
      // The lines stay buffered for the next try; those written in part are read once (by number).
      if (this.writeFailure === undefined) this.options.logger.error('could not write the journal: the changes stay pending and are retried', { file: this.segment.path, err });
      this.writeFailure = err;
      return;
    }
    this.buffer = [];
    this.writtenSeq = this.lastSeq;
    this.writeFailure = undefined;
  }

  private async syncLoop(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      while (this.waiters.length > 0) {
        const target = this.writtenSeq;
        const segments = [...this.retired, this.segment];
        const dirNeedsSync = this.dirNeedsSync;
        this.dirNeedsSync = false;
        try {
          for (const s of segments) await new Promise<void>((resolve, reject) => fs.fdatasync(s.fd, (err) => (err ? reject(err) : resolve())));
          if (dirNeedsSync) await this.dir.sync(); // a new segment's name must survive too
        } catch (err) {
          this.dirNeedsSync ||= dirNeedsSync;
          this.options.logger.error('could not sync the journal: the commit failed and the next one tries again', { file: this.segment.path, err });
          const failed = this.waiters;
          this.waiters = [];
          for (const w of failed) w.reject(err);
          break;
        }
        this.syncedSeq = Math.max(this.syncedSeq, target);
        const still: CommitWaiter[] = [];
        for (const w of this.waiters) {
          if (w.seq <= this.syncedSeq) w.resolve();
          else still.push(w);
        }
        this.waiters = still;
      }
    } finally {
      this.syncing = false;
    }
  }

  private async syncLoopIdle(): Promise<void> {
    while (this.syncing) await new Promise((resolve) => setImmediate(resolve));
  }
}
