/**
 * The Telegram polling lock: one per bot token, so that exactly one process on the machine ever
 * calls getUpdates for it. Lives at `<locksDir>/<first 16 hex of sha256(token)>.lock`, where
 * `locksDir` is the user's machine-wide lock directory (locks-dir.ts), so two installations that
 * share a token share its lock; the token itself never touches the disk or a message.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import { ensureLocksDir } from './locks-dir.js';
import { acquireOwnedLock, type HeldLock, type LockOwner, readLockOwner } from './owned-lock.js';

export const POLLING_LOCK_SUBJECT = 'Telegram polling lock for this token';

/** Short, stable, non-reversible name for a token: safe in file names and logs. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

export function pollingLockPath(locksDir: string, token: string): string {
  return path.join(locksDir, `${tokenHash(token)}.lock`);
}

export interface PollingLockOptions {
  /** The machine-wide lock directory (config.locksDir). */
  locksDir: string;
  token: string;
  /** `supervisor`, `main`, `auxiliary`, … */
  role: string;
  /** The taker's config file: another installation that finds the lock held names it. */
  config?: string;
  /** Default 5 s, as the design asks. */
  timeoutMs?: number;
  logger?: Logger;
  onCompromised?: (err: Error) => void;
}

/**
 * Takes the token's polling lock or throws `LockHeldError` naming the holder (role, pid, config,
 * since); `UnsafeLocksDirError` if the lock directory is not ours alone.
 */
export function acquirePollingLock(options: PollingLockOptions): Promise<HeldLock> {
  ensureLocksDir(options.locksDir);
  return acquireOwnedLock({
    lockPath: pollingLockPath(options.locksDir, options.token),
    role: options.role,
    ...(options.config !== undefined ? { config: options.config } : {}),
    timeoutMs: options.timeoutMs ?? 5000,
    subject: POLLING_LOCK_SUBJECT,
    logger: options.logger,
    onCompromised: options.onCompromised,
  });
}

/** Who holds a token's polling lock now, if anyone wrote an owner record. */
export function pollingLockOwner(locksDir: string, token: string): LockOwner | undefined {
  return readLockOwner(pollingLockPath(locksDir, token));
}
