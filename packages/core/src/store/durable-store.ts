/**
 * `openStore`: one JSON state file, held in memory as a lowdb `Low` and written through our
 * durable adapter. Ties the parts together: the single-writer lock, leftover-temp cleanup,
 * load-or-recover, coalesced writes, and timed backups. `update(fn)` runs `fn` on the live data
 * synchronously and schedules a write, so a check-and-change inside one `fn` can never interleave
 * with another (daily limits, quotas); `flush()` waits until it is fsync'd.
 */
import path from 'node:path';
import { Low } from 'lowdb';
import type { ZodType } from 'zod';
import { makePrivateDir } from '../fs/private-paths.js';
import type { HeldLock } from '../lock/owned-lock.js';
import type { Logger } from '../log/logger.js';
import { AtomicJsonFile, serializeJson } from './atomic-json-file.js';
import { type BackupInfo, Backups } from './backups.js';
import { type Clock, systemClock } from './clock.js';
import { CoalescingWriter } from './coalescing-writer.js';
import { removeLeftoverTemps } from './durable-write.js';
import { stderrFallbackLogger } from './fallback-logger.js';
import { type LoadResult, loadOrRecover, type StateValidator } from './recovery.js';
import { validatorFor } from './state-validator.js';
import { applySynchronousUpdate } from './synchronous-update.js';
import { acquireWriterLock, StoreLockLostError } from './writer-lock.js';

/** A read-only view of JSON-shaped data, all the way down. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer Item>
    ? ReadonlyArray<DeepReadonly<Item>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export interface StoreOptions<T extends object> {
  /** The state file, e.g. `data/bots/main/state.json`. Its folder is created (0700) if needed; the file is 0600. */
  file: string;
  /** Fresh default data (a function, so each use gets its own object). Must pass `schema`. */
  defaults: () => T;
  /** Checked on every load (file and backups) and every backup; a file that fails it counts as corrupt. */
  schema?: ZodType<T>;
  /** Where recovery ERRORs and write failures go; without one, errors and warnings go to stderr. */
  logger?: Logger;
  /** Folder for this file's backups; default `backups` beside the file. Must not be shared with another file of the same name. */
  backupDir?: string;
  /** Time between automatic backups (taken only if the data changed); default one hour; 0 turns automatic backups off. */
  backupIntervalMs?: number;
  /** How many backups to keep; default 24. */
  keepBackups?: number;
  /** Shown to a second process that tries to open the file; default `writer`. */
  role?: string;
  /** Time source for backup timing and file-name stamps; default the system clock. */
  clock?: Clock;
}

export interface DurableStore<T extends object> {
  readonly file: string;
  readonly backupDir: string;
  /** Where the data came from at open, and what recovery did, if anything. */
  readonly loaded: Omit<LoadResult<T>, 'data'>;
  /** The current data (live, not a copy): change it only through `update`. */
  readonly data: DeepReadonly<T>;
  /**
   * Runs `fn` on the live data, synchronously, schedules a coalesced write, and returns `fn`'s
   * result. `fn` must not be async. If `fn` throws, whatever it changed before throwing stays
   * changed (and is written), so check first, then change.
   */
  update<R>(fn: (draft: T) => R): R;
  /**
   * Runs `fn` on the live data like `update`, but schedules no write: for a change the caller has
   * made durable by other means (a journal beside the file, journal.ts). The next write of the
   * file — after any `update`, or a backup — carries it.
   */
  amend<R>(fn: (draft: T) => R): R;
  /** Resolves once every update made before the call is on disk (fsync'd); rejects if that write failed. */
  flush(): Promise<void>;
  /** Takes a backup of the current data now. */
  backupNow(): Promise<BackupInfo>;
  /** This file's backups, newest first. */
  listBackups(): Promise<BackupInfo[]>;
  /** Flushes, stops the backup timer and releases the writer lock. Idempotent. */
  close(): Promise<void>;
}

export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  constructor(readonly file: string) {
    super(`${file}: the store is closed`);
  }
}

const DEFAULT_BACKUP_INTERVAL_MS = 3_600_000;
const DEFAULT_KEEP_BACKUPS = 24;

class OpenStore<T extends object> implements DurableStore<T> {
  private readonly writer: CoalescingWriter;
  private closing: Promise<void> | undefined;
  private changedSinceBackup: boolean;
  /** The backup being written, which close waits for: it must not outlive the writer lock. */
  private backupInFlight: Promise<unknown> = Promise.resolve();
  private stopBackupTimer: () => void = () => undefined;

  constructor(
    readonly file: string,
    readonly loaded: Omit<LoadResult<T>, 'data'>,
    private readonly low: Low<T>,
    private readonly adapter: AtomicJsonFile<T>,
    private readonly backups: Backups,
    private readonly lock: HeldLock,
    private readonly validate: StateValidator<T>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    changedSinceBackup: boolean,
  ) {
    this.changedSinceBackup = changedSinceBackup;
    this.writer = new CoalescingWriter({
      write: () => {
        // Another process may hold the file now: better to fail loudly than to clobber its writes.
        if (this.lock.compromised) return Promise.reject(new StoreLockLostError(this.file));
        return this.low.write();
      },
      onWriteError: (err) =>
        this.logger.error('could not write the store file: the changes stay pending and are retried on the next update or flush', { file: this.file, err }),
    });
  }

  get backupDir(): string {
    return this.backups.dir;
  }

  get data(): DeepReadonly<T> {
    return this.low.data as DeepReadonly<T>;
  }

  update<R>(fn: (draft: T) => R): R {
    if (this.closing !== undefined) throw new StoreClosedError(this.file);
    return applySynchronousUpdate(this.file, this.low.data, fn, () => {
      this.changedSinceBackup = true;
      this.writer.schedule();
    });
  }

  amend<R>(fn: (draft: T) => R): R {
    if (this.closing !== undefined) throw new StoreClosedError(this.file);
    this.changedSinceBackup = true;
    return fn(this.low.data);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async backupNow(): Promise<BackupInfo> {
    if (this.closing !== undefined) throw new StoreClosedError(this.file);
    const text = serializeJson(this.low.data);
    // A backup exists to be restored: never write one that recovery would reject.
    const checked = this.validate(JSON.parse(text));
    if (!checked.ok) throw new Error(`${this.file}: not taking a backup, the data does not match the schema: ${checked.reason}`);
    this.changedSinceBackup = false;
    const created = this.backups.create(text, this.clock.now());
    this.backupInFlight = created.catch(() => undefined);
    try {
      return await created;
    } catch (err) {
      this.changedSinceBackup = true;
      throw err;
    }
  }

  listBackups(): Promise<BackupInfo[]> {
    return this.backups.list();
  }

  startBackupTimer(intervalMs: number): void {
    this.stopBackupTimer = this.clock.every(intervalMs, () => {
      if (!this.changedSinceBackup || this.closing !== undefined) return;
      this.backupNow().catch((err: unknown) => this.logger.error('automatic backup failed', { file: this.file, backupDir: this.backupDir, err }));
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.stopBackupTimer();
    try {
      await this.writer.flush();
    } finally {
      await this.backupInFlight;
      await this.adapter.close();
      await this.lock.release();
    }
  }
}

export async function openStore<T extends object>(options: StoreOptions<T>): Promise<DurableStore<T>> {
  const { file, defaults } = options;
  const logger = options.logger ?? stderrFallbackLogger();
  const clock = options.clock ?? systemClock;
  const backupIntervalMs = options.backupIntervalMs ?? DEFAULT_BACKUP_INTERVAL_MS;
  const keepBackups = options.keepBackups ?? DEFAULT_KEEP_BACKUPS;
  if (!Number.isInteger(keepBackups) || keepBackups < 1) throw new RangeError(`keepBackups must be a whole number ≥ 1, got ${keepBackups}`);
  if (!(backupIntervalMs >= 0)) throw new RangeError(`backupIntervalMs must be ≥ 0, got ${backupIntervalMs}`);

  const validate = validatorFor(options.schema, defaults);
  const checkedDefaults = validate(defaults());
  // Defaults that fail the schema would make every load look corrupt: a programming error, said at once.
  if (!checkedDefaults.ok) throw new TypeError(`${file}: the defaults do not match the schema: ${checkedDefaults.reason}`);

  await makePrivateDir(path.dirname(file));
  const lock = await acquireWriterLock({ file, role: options.role ?? 'writer', logger });
  const adapter = new AtomicJsonFile<T>(file);
  const backups = new Backups({ file, dir: options.backupDir ?? path.join(path.dirname(file), 'backups'), keep: keepBackups });
  try {
    // We hold the writer lock, so any temp file of ours on disk belongs to a writer that was killed.
    await removeLeftoverTemps(file);
    await backups.removeLeftoverTemps();
    // A writer killed between writing a backup and pruning leaves one too many; a lowered keepBackups leaves more.
    await backups.prune();

    const { data, ...loaded } = await loadOrRecover({ file, validate, defaults, backups, now: () => clock.now(), logger });
    // Whatever recovery decided must be on disk before anyone relies on it: a crash right after
    // open must not find the file missing (defaults again) or still corrupt.
    if (loaded.source !== 'file') await adapter.write(data);

    const low = new Low<T>(adapter, data);
    const automaticBackups = backupIntervalMs > 0;
    // A store restored from a backup is that backup: nothing new to save.
    const changedSinceBackup = loaded.source !== 'backup';
    const store = new OpenStore(file, loaded, low, adapter, backups, lock, validate, clock, logger, changedSinceBackup);
    if (automaticBackups && changedSinceBackup) {
      const newest = (await backups.list())[0];
      if (newest === undefined || clock.now() - newest.takenAt >= backupIntervalMs) await store.backupNow();
    }
    if (automaticBackups) store.startBackupTimer(backupIntervalMs);
    return store;
  } catch (err) {
    await adapter.close();
    await lock.release();
    throw err;
  }
}
