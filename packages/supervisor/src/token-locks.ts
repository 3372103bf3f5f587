/**
 * The polling locks of this supervisor: one PollingLockSlot per polled token, in the user's
 * machine-wide lock folder, so another installation on the same token finds them. Each is tried
 * once at start (a holder letting go, as at a supervisor's restart, gets a moment), then held for
 * the supervisor's whole life, so a bot's restart never opens a window for a second poller. A
 * lock held elsewhere does not stop the supervisor: its bot waits for it (managed-bot.ts).
 */
import { type acquirePollingLock, type Logger, type ResolvedBot, UnsafeLocksDirError } from '@botvisor/core';
import { PollingLockSlot, type PollingLockSlotOptions } from './polling-lock-slot.js';
import { StartupError } from './startup-error.js';
import type { LockStatus } from './status.js';

export interface TokenLocksOptions {
  locksDir: string;
  /** This installation's config file, named in each lock's owner record. */
  configFile: string;
  /** Every enabled polling bot: one lock each. */
  pollers: readonly ResolvedBot[];
  logger: Logger;
  /** How long the first attempt waits for a holder that is letting go. Default 1 s. */
  firstWaitMs?: number;
  /** How often a lock that is not held is tried again. Default 1 s. */
  retryMs?: number;
  onEvent?: (bot: string, kind: Parameters<NonNullable<PollingLockSlotOptions['onEvent']>>[0], message: string) => void;
  /** core's acquirePollingLock (injected for tests). */
  acquire?: typeof acquirePollingLock;
}

export class TokenLocks {
  private constructor(
    private slots: readonly PollingLockSlot[],
    private readonly o: TokenLocksOptions,
  ) {}

  /**
   * Opens a slot per poller and tries each lock once. A lock folder that is not ours alone is a
   * StartupError (a person must look); a lock held elsewhere is not: that bot waits for it.
   */
  static async open(o: TokenLocksOptions): Promise<TokenLocks> {
    const slots = o.pollers.map((bot) => TokenLocks.slotFor(bot, o));
    const locks = new TokenLocks(slots, o);
    try {
      await Promise.all(slots.map((s) => s.open(o.firstWaitMs ?? 1000)));
    } catch (err) {
      await locks.release(() => undefined);
      if (err instanceof UnsafeLocksDirError) throw new StartupError(err.message);
      throw err;
    }
    return locks;
  }

  private static slotFor(bot: ResolvedBot, o: TokenLocksOptions): PollingLockSlot {
    return new PollingLockSlot({
          bot: bot.name,
          token: bot.token,
          tokenHash: bot.tokenHash,
          locksDir: o.locksDir,
          configFile: o.configFile,
          logger: o.logger,
          ...(o.retryMs !== undefined ? { retryMs: o.retryMs } : {}),
          ...(o.acquire !== undefined ? { acquire: o.acquire } : {}),
          onEvent: (kind, message) => o.onEvent?.(bot.name, kind, message),
    });
  }

  /** A reload added poller `bot`: opens its lock like those opened at start (held elsewhere: its bot waits). */
  async add(bot: ResolvedBot): Promise<PollingLockSlot> {
    const slot = TokenLocks.slotFor(bot, this.o);
    this.slots = [...this.slots, slot];
    await slot.open(this.o.firstWaitMs ?? 1000);
    return slot;
  }

  /** A reload removed poller `name` (its bot has stopped): releases its lock. */
  async drop(name: string): Promise<void> {
    const slot = this.gateFor(name);
    if (slot === undefined) return;
    this.slots = this.slots.filter((s) => s !== slot);
    await slot.release();
  }

  /** The lock of bot `name`, if it polls. */
  gateFor(name: string): PollingLockSlot | undefined {
    return this.slots.find((s) => s.bot === name);
  }

  status(): LockStatus[] {
    return this.slots.map((s) => s.status());
  }

  /** Releases every lock; a lock that cannot be released goes to `onError`, the others are released all the same. */
  async release(onError: (err: unknown) => void): Promise<void> {
    for (const s of this.slots) await s.release().catch(onError);
  }
}
