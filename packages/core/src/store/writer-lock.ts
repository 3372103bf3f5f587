/**
 * One writer process per store file: an owned lock at `<file>.lock`, taken without waiting. A
 * second opener gets `StoreInUseError` naming the holder; the lock of a writer that was killed is
 * reclaimed at once by the owned lock, so a restarted bot reopens its store without delay.
 */
import { acquireOwnedLock, type HeldLock, LockHeldError, type LockOwner } from '../lock/owned-lock.js';
import type { Logger } from '../log/logger.js';

export class StoreInUseError extends Error {
  override readonly name = 'StoreInUseError';
  constructor(
    readonly file: string,
    /** The holder, if it has written its owner record. */
    readonly owner: LockOwner | undefined,
    options?: ErrorOptions,
  ) {
    super(
      owner === undefined
        ? `${file} is already open for writing by a process that has not written its owner record yet`
        : `${file} is already open for writing by ${owner.role} pid ${owner.pid} since ${owner.since}`,
      options,
    );
  }
}

/** The writer lock was lost while the store was open (see owned-lock's compromise): writing on could clobber another writer. */
export class StoreLockLostError extends Error {
  override readonly name = 'StoreLockLostError';
  constructor(readonly file: string) {
    super(`${file}: the writer lock was lost while the store was open; refusing to write`);
  }
}

export function writerLockPath(file: string): string {
  return `${file}.lock`;
}

export interface WriterLockOptions {
  file: string;
  role: string;
  logger?: Logger;
}

export async function acquireWriterLock(options: WriterLockOptions): Promise<HeldLock> {
  try {
    return await acquireOwnedLock({
      lockPath: writerLockPath(options.file),
      role: options.role,
      timeoutMs: 0,
      subject: `store ${options.file}`,
      logger: options.logger,
    });
  } catch (err) {
    if (err instanceof LockHeldError) throw new StoreInUseError(options.file, err.owner, { cause: err });
    throw err;
  }
}
