/**
 * The polling locks the supervisor holds: one per polled token. Each is taken before any bot is
 * forked, then held for the supervisor's whole life, so a bot's restart never opens a window for
 * a second poller. A lock reported compromised is handed to `onCompromised` with the name of its bot.
 */
import { acquirePollingLock, type HeldLock, LockHeldError, type LockOwner, type Logger, type ResolvedBot } from '@botvisor/core';
import { StartupError } from './startup-error.js';
import type { LockStatus } from './status.js';

interface TokenLock {
  lock: HeldLock;
  tokenHash: string;
  bot: string;
}

export interface TokenLocksOptions {
  dataDir: string;
  /** Every enabled polling bot: one lock each. */
  pollers: readonly ResolvedBot[];
  logger: Logger;
  onCompromised: (bot: string) => void;
  /** core's acquirePollingLock (injected for tests). */
  acquire?: typeof acquirePollingLock;
}

export class TokenLocks {
  private constructor(private readonly held: readonly TokenLock[]) {}

  /**
   * Takes every poller's lock, or none: on a failure it releases what it took and throws — a
   * StartupError naming the bot when another process holds the lock.
   */
  static async acquire(o: TokenLocksOptions): Promise<TokenLocks> {
    const acquire = o.acquire ?? acquirePollingLock;
    const held: TokenLock[] = [];
    try {
      for (const bot of o.pollers) {
        const lock = await acquire({ dataDir: o.dataDir, token: bot.token, role: 'supervisor', timeoutMs: 5000, logger: o.logger, onCompromised: () => o.onCompromised(bot.name) }).catch(
          (err: unknown) => {
            if (err instanceof LockHeldError) throw new StartupError(`cannot start bot "${bot.name}": ${err.message}, a process outside this supervisor; stop it first`);
            throw err;
          },
        );
        held.push({ lock, tokenHash: bot.tokenHash, bot: bot.name });
      }
    } catch (err) {
      await new TokenLocks(held).release(() => undefined);
      throw err;
    }
    return new TokenLocks(held);
  }

  /** The lock held for bot `name`, as the bot's hello carries it. */
  heldFor(name: string): { path: string; owner: LockOwner } | undefined {
    const held = this.held.find((l) => l.bot === name);
    return held === undefined ? undefined : { path: held.lock.lockPath, owner: held.lock.owner };
  }

  status(): LockStatus[] {
    return this.held.map((l) => ({
      tokenHash: l.tokenHash,
      path: l.lock.lockPath,
      owner: { pid: l.lock.owner.pid, role: l.lock.owner.role, since: l.lock.owner.since },
      bot: l.bot,
    }));
  }

  /** Releases every lock; a lock that cannot be released goes to `onError`, the others are released all the same. */
  async release(onError: (err: unknown) => void): Promise<void> {
    for (const l of this.held) await l.lock.release().catch(onError);
  }
}
