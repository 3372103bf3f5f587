/**
 * The Telegram polling lock: one per bot token, so that exactly one process ever calls
 * getUpdates for it. Lives at `<dataDir>/locks/<first 16 hex of sha256(token)>.lock`; the token
 * itself never touches the disk or a message.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import { acquireOwnedLock, type HeldLock, type LockOwner, readLockOwner } from './owned-lock.js';

export const POLLING_LOCK_SUBJECT = 'Telegram polling lock for this token';

/** Short, stable, non-reversible name for a token: safe in file names and logs. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

export function pollingLockPath(dataDir: string, token: string): string {
  return path.join(dataDir, 'locks', `${tokenHash(token)}.lock`);
}

export interface PollingLockOptions {
  dataDir: string;
  token: string;
  /** `supervisor`, `main`, `auxiliary`, … */
  role: string;
  /** Default 5 s, as the design asks. */
  timeoutMs?: number;
  logger?: Logger;
  onCompromised?: (err: Error) => void;
}

/** Takes the token's polling lock or throws `LockHeldError` naming the holder (role, pid, since). */
export function acquirePollingLock(options: PollingLockOptions): Promise<HeldLock> {
  return acquireOwnedLock({
    lockPath: pollingLockPath(options.dataDir, options.token),
    role: options.role,
    timeoutMs: options.timeoutMs ?? 5000,
    subject: POLLING_LOCK_SUBJECT,
    logger: options.logger,
    onCompromised: options.onCompromised,
  });
}

/** Who holds a token's polling lock now, if anyone wrote an owner record. */
export function pollingLockOwner(dataDir: string, token: string): LockOwner | undefined {
  return readLockOwner(pollingLockPath(dataDir, token));
}
