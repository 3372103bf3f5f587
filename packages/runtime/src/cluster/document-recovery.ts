/**
 * Loading a cluster document, and recovering when it is bad: the file store's story
 * (core/src/store/recovery.ts) told in PostgreSQL. A missing row is a fresh start: defaults, no
 * error. A row whose body fails the schema (PostgreSQL keeps only valid JSON, so a schema failure
 * is the one way to be "corrupt": a hand edit, or a node running another version of the bot) is
 * set aside as a `corrupt` copy in botvisor_document_copy (kept, never pruned), and the newest
 * backup that passes the schema takes its place, or else the defaults; either way with an ERROR
 * log, because a person should look at the copy. Writing the result is the caller's
 * (postgres-store.ts), who owns the writes.
 */
import type { BackupInfo, LoadResult, Logger, StateValidator } from '@botvisor/core';
import type { DocumentDatabase } from './document-database.js';
import { READ_BACKUPS, READ_DOCUMENT } from './document-tables.js';

/** How the loaded data must reach the row before anyone relies on it; `setAsideAt`: the corrupt copy's time, for `replace`. */
export type DocumentLoad<T> = LoadResult<T> & ({ write: 'none' | 'insert' } | { write: 'replace'; setAsideAt: number });

export interface LoadDocumentOptions<T> {
  db: DocumentDatabase;
  name: string;
  /** How the document is named to a person (logs, errors). */
  label: string;
  validate: StateValidator<T>;
  defaults: () => T;
  now: () => number;
  logger: Logger;
}

/** How a backup (or a set-aside copy) of a document is named to a person. */
export function copyLabel(name: string, kind: 'backup' | 'corrupt', takenAt: number): string {
  return `botvisor_document_copy (name ${name}, kind ${kind}, taken_at ${new Date(takenAt).toISOString()})`;
}

export async function loadDocument<T>(o: LoadDocumentOptions<T>): Promise<DocumentLoad<T>> {
  const row = (await o.db.query<{ body: unknown }>(READ_DOCUMENT, [o.db.tokenHash, o.name])).rows[0];
  if (row === undefined) return { data: o.defaults(), source: 'missing', write: 'insert' };
  const checked = o.validate(row.body);
  if (checked.ok) return { data: checked.data, source: 'file', write: 'none' };

  const setAsideAt = o.now();
  const corruptCopy = copyLabel(o.name, 'corrupt', setAsideAt);
  const restored = await newestValidBackup(o);
  if (restored !== undefined) {
    o.logger.error('cluster document did not match its schema: set it aside and restored the newest valid backup', {
      document: o.label,
      reason: checked.reason,
      corruptCopy,
      restoredFrom: restored.backup.path,
      backupTakenAt: new Date(restored.backup.takenAt).toISOString(),
    });
    return { data: restored.data, source: 'backup', corruptCopy, restoredFrom: restored.backup, write: 'replace', setAsideAt };
  }
  o.logger.error('cluster document did not match its schema and no valid backup exists: set it aside and started from defaults', {
    document: o.label,
    reason: checked.reason,
    corruptCopy,
  });
  return { data: o.defaults(), source: 'defaults', corruptCopy, write: 'replace', setAsideAt };
}

/** The newest backup that passes the schema, skipping (with a WARNING each) those that do not. */
async function newestValidBackup<T>(o: LoadDocumentOptions<T>): Promise<{ data: T; backup: BackupInfo } | undefined> {
  const rows = (await o.db.query<{ taken_at_ms: number; body: unknown }>(READ_BACKUPS, [o.db.tokenHash, o.name])).rows;
  for (const r of rows) {
    const backup = { path: copyLabel(o.name, 'backup', Math.round(r.taken_at_ms)), takenAt: Math.round(r.taken_at_ms) };
    const checked = o.validate(r.body);
    if (checked.ok) return { data: checked.data, backup };
    o.logger.warning('skipping a backup that is not valid', { document: o.label, backup: backup.path, reason: checked.reason });
  }
  return undefined;
}
