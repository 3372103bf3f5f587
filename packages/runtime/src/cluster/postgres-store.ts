/**
 * The durable store (core's `DurableStore`: `data`, `update`, `flush`, `close`, backups) kept in
 * PostgreSQL instead of a file, for cluster mode: a bot's state and job records, shared by the
 * nodes, one row per (token hash, document name). The whole document is loaded at open and held
 * in memory, so bot code reads and changes it synchronously as it does a file's; changes are
 * written behind, coalesced like the file store's (core's CoalescingWriter): every change made in
 * one synchronous stretch goes out in one write, and one write at a time. Each write is the whole
 * document in ONE statement behind the lease fence (document-tables.ts): a write under an older
 * epoch changes nothing, and the database tells the run it lost the token (document-database.ts),
 * which stops the bot as a refused inbox write does.
 *
 * Only the lease holder's bot runs (the standby node forks none), so this process is the only
 * writer while its epoch is the lease's, which is what makes holding the document in memory safe.
 * Schema checks, defaults and the corrupt-document story follow the file store (document-recovery.ts).
 */
import { applySynchronousUpdate, type BackupInfo, type Clock, CoalescingWriter, type DeepReadonly, type DurableStore, type LoadResult, type StateValidator, StoreClosedError, systemClock, validatorFor } from '@botvisor/core';
import type { ZodType } from 'zod';
import { type DocumentDatabase, StoreFencedError } from './document-database.js';
import { copyLabel, loadDocument } from './document-recovery.js';
import { LIST_BACKUPS, SET_ASIDE_AND_REPLACE, TAKE_BACKUP, WRITE_DOCUMENT } from './document-tables.js';

export interface PostgresStoreOptions<T extends object> {
  db: DocumentDatabase;
  /** The document's name within the token's rows, e.g. `state` or `jobs`. */
  name: string;
  /** Fresh default data (a function, so each use gets its own object). Must pass `schema`. */
  defaults: () => T;
  /** Checked on every load (document and backups) and every backup; a document that fails it is set aside as corrupt. */
  schema?: ZodType<T>;
  /** Time between automatic backups (taken only if the data changed); default one hour; 0 turns them off. */
  backupIntervalMs?: number;
  /** How many backups to keep; default 24. */
  keepBackups?: number;
  /** After a write failed for a reason other than the fence (PostgreSQL away), the pending changes are tried again this often. Default 1000 ms. */
  retryEveryMs?: number;
  clock?: Clock;
}

const DEFAULT_BACKUP_INTERVAL_MS = 3_600_000;
const DEFAULT_KEEP_BACKUPS = 24;
const DEFAULT_RETRY_EVERY_MS = 1000;

class PostgresStore<T extends object> implements DurableStore<T> {
  readonly file: string;
  readonly backupDir: string;
  private readonly writer: CoalescingWriter;
  private closing: Promise<void> | undefined;
  private changedSinceBackup: boolean;
  private backupInFlight: Promise<unknown> = Promise.resolve();
  private stopBackupTimer: () => void = () => undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: PostgresStoreOptions<T>,
    readonly loaded: Omit<LoadResult<T>, 'data'>,
    private live: T,
    private readonly validate: StateValidator<T>,
    private readonly clock: Clock,
  ) {
    this.file = `botvisor_document (name ${o.name})`;
    this.backupDir = `botvisor_document_copy (name ${o.name})`;
    this.changedSinceBackup = loaded.source !== 'backup';
    this.writer = new CoalescingWriter({
      // The text is taken before the first await: the write carries the data as of its generation.
      write: () => o.db.write(WRITE_DOCUMENT, [o.name, JSON.stringify(this.live)]),
      onWriteError: (err) => this.onWriteError(err),
    });
  }

  get data(): DeepReadonly<T> {
    return this.live as DeepReadonly<T>;
  }

  update<R>(fn: (draft: T) => R): R {
    if (this.closing !== undefined) throw new StoreClosedError(this.file);
    return applySynchronousUpdate(this.file, this.live, fn, () => {
      this.changedSinceBackup = true;
      this.writer.schedule();
    });
  }

  amend<R>(fn: (draft: T) => R): R {
    if (this.closing !== undefined) throw new StoreClosedError(this.file);
    this.changedSinceBackup = true;
    return fn(this.live);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async backupNow(): Promise<BackupInfo> {
    if (this.closing !== undefined) throw new StoreClosedError(this.file);
    const text = JSON.stringify(this.live);
    // A backup exists to be restored: never write one that recovery would reject.
    const checked = this.validate(JSON.parse(text));
    if (!checked.ok) throw new Error(`${this.file}: not taking a backup, the data does not match the schema: ${checked.reason}`);
    this.changedSinceBackup = false;
    const takenAt = this.clock.now();
    const created = this.o.db.write(TAKE_BACKUP, [this.o.name, text, takenAt, this.o.keepBackups ?? DEFAULT_KEEP_BACKUPS]);
    this.backupInFlight = created.catch(() => undefined);
    try {
      await created;
    } catch (err) {
      this.changedSinceBackup = true;
      throw err;
    }
    return { path: copyLabel(this.o.name, 'backup', takenAt), takenAt };
  }

  async listBackups(): Promise<BackupInfo[]> {
    const rows = (await this.o.db.query<{ taken_at_ms: number }>(LIST_BACKUPS, [this.o.db.tokenHash, this.o.name])).rows;
    return rows.map((r) => {
      const takenAt = Math.round(r.taken_at_ms);
      return { path: copyLabel(this.o.name, 'backup', takenAt), takenAt };
    });
  }

  startBackupTimer(intervalMs: number): void {
    this.stopBackupTimer = this.clock.every(intervalMs, () => {
      if (!this.changedSinceBackup || this.closing !== undefined) return;
      this.backupNow().catch((err: unknown) => {
        if (!(err instanceof StoreFencedError)) this.o.db.logger.error('automatic backup of a cluster document failed', { document: this.file, err });
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.stopBackupTimer();
    clearTimeout(this.retryTimer);
    try {
      await this.writer.flush();
    } finally {
      await this.backupInFlight;
    }
  }

  private onWriteError(err: unknown): void {
    if (err instanceof StoreFencedError) return; // the database has told the run; nothing it writes counts any more
    this.o.db.logger.warning('could not write a cluster document to PostgreSQL: the changes stay in memory and are tried again', { document: this.file, err });
    if (this.retryTimer !== undefined || this.closing !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closing === undefined && this.o.db.fencedError === undefined) this.writer.schedule();
    }, this.o.retryEveryMs ?? DEFAULT_RETRY_EVERY_MS);
    this.retryTimer.unref();
  }
}

/** Loads (or recovers) the document and makes what was decided durable before returning, as `openStore` does for a file. */
export async function openPostgresStore<T extends object>(o: PostgresStoreOptions<T>): Promise<DurableStore<T>> {
  const clock = o.clock ?? systemClock;
  const backupIntervalMs = o.backupIntervalMs ?? DEFAULT_BACKUP_INTERVAL_MS;
  const keepBackups = o.keepBackups ?? DEFAULT_KEEP_BACKUPS;
  if (!Number.isInteger(keepBackups) || keepBackups < 1) throw new RangeError(`keepBackups must be a whole number ≥ 1, got ${keepBackups}`);
  if (!(backupIntervalMs >= 0)) throw new RangeError(`backupIntervalMs must be ≥ 0, got ${backupIntervalMs}`);
  const validate = validatorFor(o.schema, o.defaults);
  const label = `botvisor_document (name ${o.name})`;
  const checkedDefaults = validate(o.defaults());
  if (!checkedDefaults.ok) throw new TypeError(`${label}: the defaults do not match the schema: ${checkedDefaults.reason}`);

  const load = await loadDocument({ db: o.db, name: o.name, label, validate, defaults: o.defaults, now: () => clock.now(), logger: o.db.logger });
  const { data } = load;
  const loaded: Omit<LoadResult<T>, 'data'> = {
    source: load.source,
    ...(load.corruptCopy !== undefined ? { corruptCopy: load.corruptCopy } : {}),
    ...(load.restoredFrom !== undefined ? { restoredFrom: load.restoredFrom } : {}),
  };
  // Whatever recovery decided must be in the row before anyone relies on it: a crash right after
  // open must not find it missing (defaults again) or still failing its schema.
  if (load.write === 'insert') await o.db.write(WRITE_DOCUMENT, [o.name, JSON.stringify(data)]);
  if (load.write === 'replace') await o.db.write(SET_ASIDE_AND_REPLACE, [o.name, JSON.stringify(data), load.setAsideAt]);

  const store = new PostgresStore<T>({ ...o, keepBackups }, loaded, data, validate, clock);
  if (backupIntervalMs > 0) {
    // A document restored from a backup is that backup: nothing new to save.
    if (loaded.source !== 'backup') {
      const newest = (await store.listBackups())[0];
      if (newest === undefined || clock.now() - newest.takenAt >= backupIntervalMs) await store.backupNow();
    }
    store.startBackupTimer(backupIntervalMs);
  }
  return store;
}
