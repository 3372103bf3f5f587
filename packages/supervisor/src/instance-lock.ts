/**
 * One supervisor per data dir: an owned lock at `data/supervisor/supervisor.lock`, whose owner
 * record (`supervisor.owner.json`) also tells `botvisor stop` which process to signal when the
 * control socket is gone. A second supervisor is refused with the first one's pid and start.
 */
import path from 'node:path';
import { acquireOwnedLock, type HeldLock, LockHeldError, type Logger } from '@botvisor/core';

export class AlreadyRunningError extends Error {
  override readonly name = 'AlreadyRunningError';
  constructor(
    readonly pid: number | undefined,
    readonly since: string | undefined,
  ) {
    super(pid === undefined ? 'botvisor is already running (starting up right now)' : `botvisor is already running (pid ${pid}, since ${since})`);
  }
}

export function instanceLockPath(dataDir: string): string {
  return path.join(dataDir, 'supervisor', 'supervisor.lock');
}

export async function acquireInstanceLock(dataDir: string, logger: Logger): Promise<HeldLock> {
  try {
    return await acquireOwnedLock({ lockPath: instanceLockPath(dataDir), role: 'supervisor', timeoutMs: 0, subject: 'botvisor', logger });
  } catch (err) {
    if (err instanceof LockHeldError) throw new AlreadyRunningError(err.owner?.pid, err.owner?.since);
    throw err;
  }
}
