/**
 * Loading a store file, and recovering when it is bad. A file that does not parse or fails its
 * schema is moved aside as `<file>.corrupt-<stamp>` (kept, never deleted), and the newest backup
 * that parses and passes the schema takes its place, or else the defaults; either way with an
 * ERROR log, because a person should look at the corrupt copy. A missing file is a fresh start:
 * defaults, no error. Writing the result back to disk is left to the caller, who owns the writes.
 */
import { rename } from 'node:fs/promises';
import type { Logger } from '../log/logger.js';
import { CorruptFileError, parseJson, readTextIfExists } from './atomic-json-file.js';
import type { BackupInfo, Backups } from './backups.js';
import { fileStamp } from './file-stamp.js';

/** Checks parsed JSON against the store's shape; returns the data to use (a schema may fill in defaults) or why it is invalid. */
export type StateValidator<T> = (raw: unknown) => { ok: true; data: T } | { ok: false; reason: string };

export type LoadSource = 'file' | 'missing' | 'backup' | 'defaults';

export interface LoadResult<T> {
  data: T;
  /** Where the data came from: the file itself, defaults for a missing file, or a recovery. */
  source: LoadSource;
  /** Where the corrupt file was moved, if it was. */
  corruptCopy?: string;
  /** The backup the data was restored from, if it was. */
  restoredFrom?: BackupInfo;
}

export interface LoadOptions<T> {
  file: string;
  validate: StateValidator<T>;
  defaults: () => T;
  backups: Backups;
  now: () => number;
  logger?: Logger;
}

/** Reads and validates one file; throws `CorruptFileError` if it is not usable, returns undefined if it is missing. */
async function readValid<T>(file: string, validate: StateValidator<T>): Promise<{ data: T } | undefined> {
  const text = await readTextIfExists(file);
  if (text === null) return undefined;
  const checked = validate(parseJson(text, file));
  if (!checked.ok) throw new CorruptFileError(file, `does not match the schema: ${checked.reason}`);
  return { data: checked.data };
}

/** The newest backup that is valid, skipping (with a WARNING each) those that are not. */
async function newestValidBackup<T>(options: LoadOptions<T>): Promise<{ data: T; backup: BackupInfo } | undefined> {
  for (const backup of await options.backups.list()) {
    try {
      const found = await readValid(backup.path, options.validate);
      if (found !== undefined) return { data: found.data, backup };
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      options.logger?.warning('skipping a backup that is not valid', { file: options.file, backup: backup.path, reason: err.reason });
    }
  }
  return undefined;
}

export async function loadOrRecover<T>(options: LoadOptions<T>): Promise<LoadResult<T>> {
  const { file, logger } = options;
  let corruption: CorruptFileError;
  try {
    const found = await readValid(file, options.validate);
    if (found !== undefined) return { data: found.data, source: 'file' };
    const backups = await options.backups.list();
    if (backups.length > 0) {
      // Not restored on purpose: deleting the file is how an operator resets a store.
      logger?.warning('store file is missing although backups exist: starting from defaults', { file, newestBackup: backups[0]?.path });
    }
    return { data: options.defaults(), source: 'missing' };
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
    corruption = err;
  }

  const corruptCopy = `${file}.corrupt-${fileStamp(options.now())}`;
  await rename(file, corruptCopy);
  const restored = await newestValidBackup(options);
  if (restored !== undefined) {
    logger?.error('store file was corrupt: moved it aside and restored the newest valid backup', {
      file,
      reason: corruption.reason,
      corruptCopy,
      restoredFrom: restored.backup.path,
      backupTakenAt: new Date(restored.backup.takenAt).toISOString(),
    });
    return { data: restored.data, source: 'backup', corruptCopy, restoredFrom: restored.backup };
  }
  logger?.error('store file was corrupt and no valid backup exists: moved it aside and started from defaults', {
    file,
    reason: corruption.reason,
    corruptCopy,
  });
  return { data: options.defaults(), source: 'defaults', corruptCopy };
}
