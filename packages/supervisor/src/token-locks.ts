/**
 * The polling locks of this supervisor: one PollingLockSlot per polled token, in the user's
 * machine-wide lock folder, so another installation on the same token finds them. Each is tried
 * once at start (a holder letting go, as at a supervisor's restart, gets a moment), then held for
 * the supervisor's whole life, so a bot's restart never opens a window for a second poller. A
 * lock held elsewhere does not stop the supervisor: its bot waits for it (managed-bot.ts). In
 * cluster mode each token also has a lease in PostgreSQL (cluster/token-lease.ts), and its bot's
 * gate is both (cluster/cluster-gate.ts).
 */
import { type acquirePollingLock, type Logger, type ResolvedBot, UnsafeLocksDirError } from '@botvisor/core';
import { ClusterGate } from './cluster/cluster-gate.js';
import type { LeaseStore } from './cluster/lease-store.js';
import { type ClusterLeaseStatus, TokenLease } from './cluster/token-lease.js';
import { type PollingLockGate, PollingLockSlot, type PollingLockSlotOptions } from './polling-lock-slot.js';
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
  /** Cluster mode: a lease per token in PostgreSQL besides the local lock. */
  cluster?: { store: LeaseStore; postgres: string; instance: string; node: string; leaseMs: number; renewMs: number; onEvent: (bot: string, kind: 'taken' | 'lost', message: string) => void };
}

/** A polled token's gates: the local lock, and in cluster mode its lease. */
interface TokenGates {
  slot: PollingLockSlot;
  lease: TokenLease | undefined;
  gate: PollingLockGate;
}

export class TokenLocks {
  private constructor(
    private slots: readonly TokenGates[],
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
      await Promise.all(slots.map((s) => TokenLocks.openGates(s, o)));
    } catch (err) {
      await locks.release(() => undefined);
      if (err instanceof UnsafeLocksDirError) throw new StartupError(err.message);
      throw err;
    }
    return locks;
  }

  private static async openGates(g: TokenGates, o: TokenLocksOptions): Promise<void> {
    await Promise.all([g.slot.open(o.firstWaitMs ?? 1000), g.lease?.open()]);
  }

  private static slotFor(bot: ResolvedBot, o: TokenLocksOptions): TokenGates {
    const slot = TokenLocks.localSlotFor(bot, o);
    const c = o.cluster;
    if (c === undefined) return { slot, lease: undefined, gate: slot };
    const lease = new TokenLease({
      bot: bot.name,
      tokenHash: bot.tokenHash,
      node: c.node,
      leaseMs: c.leaseMs,
      renewMs: c.renewMs,
      store: c.store,
      instance: c.instance,
      logger: o.logger,
      onEvent: (kind, message) => c.onEvent(bot.name, kind, message),
    });
    return { slot, lease, gate: new ClusterGate(slot, lease, c.postgres) };
  }

  private static localSlotFor(bot: ResolvedBot, o: TokenLocksOptions): PollingLockSlot {
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
  async add(bot: ResolvedBot): Promise<PollingLockGate> {
    const gates = TokenLocks.slotFor(bot, this.o);
    this.slots = [...this.slots, gates];
    await TokenLocks.openGates(gates, this.o);
    return gates.gate;
  }

  /** A reload removed poller `name` (its bot has stopped): releases its lock. */
  async drop(name: string): Promise<void> {
    const gates = this.slots.find((s) => s.slot.bot === name);
    if (gates === undefined) return;
    this.slots = this.slots.filter((s) => s !== gates);
    await TokenLocks.releaseGates(gates);
  }

  /** What bot `name` polls behind, if it polls: its lock, and in cluster mode its lease too. */
  gateFor(name: string): PollingLockGate | undefined {
    return this.slots.find((s) => s.slot.bot === name)?.gate;
  }

  status(): LockStatus[] {
    return this.slots.map((s) => ({ ...s.slot.status(), cluster: s.lease?.status() ?? null }));
  }

  /** Each polled token's cluster lease as this node sees it; empty on one machine. */
  clusterStatus(): Array<{ bot: string; tokenHash: string } & ClusterLeaseStatus> {
    return this.slots.flatMap((s) => (s.lease === undefined ? [] : [{ bot: s.slot.bot, tokenHash: s.slot.status().tokenHash, ...s.lease.status() }]));
  }

  /** Releases every lock and lease; one that cannot be released goes to `onError`, the others are released all the same. */
  async release(onError: (err: unknown) => void): Promise<void> {
    for (const s of this.slots) await TokenLocks.releaseGates(s).catch(onError);
  }

  /** The lease first: its bot has stopped polling, so the standby may take over at once. */
  private static async releaseGates(g: TokenGates): Promise<void> {
    await g.lease?.release();
    await g.slot.release();
  }
}
