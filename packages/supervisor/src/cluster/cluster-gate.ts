/**
 * The gate a polling bot forks behind in cluster mode: this machine's polling lock (so two
 * installations here never poll one token) and the token's cluster lease (so two machines never
 * do). The bot polls only while both are held; either one going stops it (managed-bot.ts). Its
 * grant is what the bot's run writes the token's shared inbox with: a change of epoch ends the run.
 */
import type { LockOwner } from '@botvisor/core';
import type { ClusterGrant, PollingLockGate } from '../polling-lock-slot.js';
import type { TokenLease } from './token-lease.js';

export class ClusterGate implements PollingLockGate {
  constructor(
    private readonly local: PollingLockGate,
    readonly lease: TokenLease,
    /** The cluster's connection string: handed to the bot over IPC, never logged. */
    private readonly postgres: string,
  ) {}

  held(): { path: string; owner: LockOwner } | undefined {
    return this.lease.held() ? this.local.held() : undefined;
  }

  problem(): string | undefined {
    return this.local.problem() ?? this.lease.problem();
  }

  /** A lost lease leaves its margin to stop in: after that the other node may take the lease and poll. */
  stopWithinMs(): number | undefined {
    return this.lease.held() ? undefined : this.lease.stopMarginMs;
  }

  /** The epoch is the lease's as this node holds it now; a run forked under it writes the shared inbox under it. */
  clusterGrant(): ClusterGrant | undefined {
    const epoch = this.lease.heldEpoch();
    if (epoch === undefined || this.held() === undefined) return undefined;
    return { postgres: this.postgres, tokenHash: this.lease.tokenHash, epoch, node: this.lease.node };
  }

  onChange(listener: () => void): () => void {
    const offLocal = this.local.onChange(listener);
    const offLease = this.lease.onChange(listener);
    return () => {
      offLocal();
      offLease();
    };
  }
}
