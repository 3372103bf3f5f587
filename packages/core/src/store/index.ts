/**
 * The durable store: JSON state files that survive `kill -9` at any moment, one writer process
 * per file, recovery from corrupt files via timestamped backups. Only the public surface is
 * exported here, plus the parts another backend of the same interface reuses (the coalescing
 * writer, the validator); backups and file recovery stay internal to the folder.
 */
export { AtomicJsonFile, CorruptFileError } from './atomic-json-file.js';
export type { BackupInfo } from './backups.js';
export { type Clock, systemClock } from './clock.js';
export { CoalescingWriter } from './coalescing-writer.js';
export { type DeepReadonly, type DurableStore, openStore, StoreClosedError, type StoreOptions } from './durable-store.js';
export { writeFileDurably } from './durable-write.js';
export { Journal, type JournalOptions, listSegments, type Numbered, type ReadJournalOptions, readJournal } from './journal.js';
export type { LoadResult, LoadSource, StateValidator } from './recovery.js';
export { validatorFor } from './state-validator.js';
export { applySynchronousUpdate } from './synchronous-update.js';
export { StoreInUseError, StoreLockLostError } from './writer-lock.js';
