/**
 * Deciding whether this bot polls, and under whose lock (the seed's SKIP_TELEGRAM_LOCK design):
 *
 * - config says send-only (another bot polls this token)      → send-only, no lock touched
 * - SKIP_TELEGRAM_LOCK=1 (the supervisor holds the lock)       → poll without touching the lock;
 *   the supervisor's IPC hello repeats the facts and wins if it says send-only
 * - otherwise take the lock (5 s) in the user's machine-wide lock folder, where every
 *   installation's supervisor takes it too: held by someone else → a main bot refuses to start,
 *   naming the holder and its config file; an auxiliary bot logs one WARNING and runs send-only.
 */
import { acquirePollingLock, describeLockOwner, type HeldLock, type HelloMessage, LockHeldError, type Logger } from '@botvisor/core';

export type PollingMode =
  | { polling: true; lock: HeldLock | undefined; why: string }
  | { polling: false; why: string };

export class LockRefusedError extends Error {
  override readonly name = 'LockRefusedError';
}

export interface LockHandshakeOptions {
  botName: string;
  token: string;
  /** The machine-wide lock folder (config.locksDir). */
  locksDir: string;
  /** This bot's config file, named in the lock's owner record. */
  configFile: string;
  /** From the config: this bot is its token's poller. */
  configuredToPoll: boolean;
  auxiliary: boolean;
  skipTelegramLock: boolean;
  /** The supervisor's hello, if there is a supervisor. */
  hello: HelloMessage | undefined;
  logger: Logger;
  lockTimeoutMs?: number;
  onCompromised: (err: Error) => void;
}

export async function lockHandshake(o: LockHandshakeOptions): Promise<PollingMode> {
  if (o.hello !== undefined && !o.hello.polling) return { polling: false, why: 'send-only: the supervisor says another bot polls this token' };
  if (!o.configuredToPoll) return { polling: false, why: 'send-only: another bot polls this token' };
  if (o.skipTelegramLock) {
    if (o.hello === undefined) o.logger.warning('SKIP_TELEGRAM_LOCK=1 without a supervisor hello: polling without the lock; the process that set it must hold it');
    return { polling: true, lock: undefined, why: 'the supervisor holds the polling lock (SKIP_TELEGRAM_LOCK=1)' };
  }
  try {
    const lock = await acquirePollingLock({
      locksDir: o.locksDir,
      token: o.token,
      role: o.auxiliary ? 'auxiliary' : 'main',
      config: o.configFile,
      timeoutMs: o.lockTimeoutMs ?? 5000,
      logger: o.logger,
      onCompromised: o.onCompromised,
    });
    return { polling: true, lock, why: 'took the polling lock itself' };
  } catch (err) {
    if (!(err instanceof LockHeldError)) throw err;
    if (o.auxiliary) {
      const holder = err.owner === undefined ? 'another process' : `${describeLockOwner(err.owner)} since ${err.owner.since}`;
      o.logger.warning(`polling disabled: lock held by ${holder}`);
      return { polling: false, why: `send-only: lock held by ${holder}` };
    }
    throw new LockRefusedError(err.message);
  }
}
