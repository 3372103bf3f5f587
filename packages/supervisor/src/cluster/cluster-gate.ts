/**
 * The gate a polling bot forks behind in cluster mode: this machine's polling lock (so two
 * installations here never poll one token) and the token's cluster lease (so two machines never
 * do). The bot polls only while both are held; either one going stops it (managed-bot.ts).
 */
import type { LockOwner } from '@botvisor/core';
import type { PollingLockGate } from '../polling-lock-slot.js';
import type { TokenLease } from './token-lease.js';

export class ClusterGate implements PollingLockGate {
  constructor(
    private readonly local: PollingLockGate,
    readonly lease: TokenLease,
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

  onChange(listener: () => void): () => void {
    const offLocal = this.local.onChange(listener);
    const offLease = this.lease.onChange(listener);
    return () => {
      offLocal();
      offLease();
    };
  }
}
