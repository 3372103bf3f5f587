/**
 * One polled token's cluster lease as this node keeps it: `active` (ours: its bot may poll) or
 * `standby` (another node holds it, or PostgreSQL cannot be reached), tried every `renewMs`.
 *
 * The safety rule: a renewal sent at monotonic time t makes the database extend the lease to at
 * least t + leaseMs (its clock, read after t), so this node counts the lease as ours only until
 * t + leaseMs − margin on its own monotonic clock. The margin (a quarter of leaseMs) is the time
 * its bot gets to stop polling, plus clock-rate drift. A node that cannot renew — PostgreSQL gone,
 * a partition, a long pause — therefore stops polling before anyone else can take the lease.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '@botvisor/core';
import type { LeaseRow, LeaseStore } from './lease-store.js';

export interface ClusterLeaseStatus {
  node: string;
  /** `active`: this node holds the lease and its bot polls; `standby`: it does not. */
  role: 'active' | 'standby';
  /** The lease's epoch as last seen (ours when active); null before the first answer. */
  epoch: number | null;
  /** The node holding the lease as last seen; null if nobody or unknown. */
  holder: string | null;
  /** Active: how long ours lasts without a renewal (our safe count). Standby: the holder's, as last read. Null if unknown. */
  leaseExpiresInMs: number | null;
  /** Why this node is standby when the reason is a failure (PostgreSQL unreachable); null otherwise. */
  error: string | null;
}

type LeaseState =
  | { kind: 'active'; epoch: number; safeUntil: number }
  | { kind: 'standby'; seen: LeaseRow | undefined; seenAt: number; error: string | undefined }
  | { kind: 'released' };

export interface TokenLeaseOptions {
  bot: string;
  tokenHash: string;
  node: string;
  leaseMs: number;
  renewMs: number;
  store: LeaseStore;
  /** This supervisor's run (random), in the lease row: a restarted node is a new holder and waits for the expiry like anyone. */
  instance: string;
  logger: Logger;
  /** The lease came to this node (`taken`) or left it (`lost`): an alert-worthy change of active node. */
  onEvent?: (kind: 'taken' | 'lost', message: string) => void;
  /** Monotonic ms (injected for tests). */
  now?: () => number;
}

export class TokenLease {
  private state: LeaseState = { kind: 'standby', seen: undefined, seenAt: 0, error: undefined };
  private readonly listeners = new Set<() => void>();
  private tryTimer: NodeJS.Timeout | undefined;
  private dropTimer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly marginMs: number;

  /** The time a bot has to stop polling once this node counts the lease as lost. */
  get stopMarginMs(): number {
    return this.marginMs;
  }
  /** A take in flight at release turned out ours: the row must still be ended. */
  private wasActive = false;

  constructor(private readonly o: TokenLeaseOptions) {
    this.now = o.now ?? (() => performance.now());
    this.marginMs = Math.ceil(o.leaseMs / 4);
  }

  /** The first attempt; after it the lease is renewed (or tried) every renewMs by itself. */
  async open(): Promise<void> {
    await this.tryOnce();
  }

  held(): boolean {
    return this.state.kind === 'active';
  }

  /** The epoch of the lease while this node holds it. */
  heldEpoch(): number | undefined {
    return this.state.kind === 'active' ? this.state.epoch : undefined;
  }

  /** This node's name, as the cluster config gives it. */
  get node(): string {
    return this.o.node;
  }

  get tokenHash(): string {
    return this.o.tokenHash;
  }

  problem(): string | undefined {
    const s = this.state;
    if (s.kind !== 'standby') return undefined;
    if (s.error !== undefined) return `standby: cannot reach PostgreSQL to take this token's cluster lease (${s.error}); polling stays stopped until it can`;
    if (s.seen !== undefined) return `standby: node ${s.seen.holder} holds this token's cluster lease (epoch ${s.seen.epoch}); this node takes over when it lapses`;
    return "standby: this token's cluster lease is not taken yet";
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): ClusterLeaseStatus {
    const s = this.state;
    const base = { node: this.o.node };
    if (s.kind === 'active') return { ...base, role: 'active', epoch: s.epoch, holder: this.o.node, leaseExpiresInMs: Math.max(0, Math.round(s.safeUntil - this.now())), error: null };
    if (s.kind === 'standby') {
      return {
        ...base,
        role: 'standby',
        epoch: s.seen?.epoch ?? null,
        holder: s.seen !== undefined && s.seen.remainingMs > 0 ? s.seen.holder : null,
        leaseExpiresInMs: s.seen === undefined ? null : Math.max(0, Math.round(s.seen.remainingMs - (this.now() - s.seenAt))),
        error: s.error ?? null,
      };
    }
    return { ...base, role: 'standby', epoch: null, holder: null, leaseExpiresInMs: null, error: null };
  }

  /** Stops renewing and ends our lease in PostgreSQL, so the standby takes over at its next try. Call once the bot has stopped polling. */
  async release(): Promise<void> {
    clearTimeout(this.tryTimer);
    clearTimeout(this.dropTimer);
    const before = this.state;
    this.state = { kind: 'released' };
    await this.attempt;
    if (before.kind === 'active' || this.wasActive) {
      await this.o.store.release(this.o.tokenHash, this.o.instance).catch((err: unknown) => this.o.logger.warning('could not end the cluster lease; the standby takes over when it lapses', { bot: this.o.bot, err }));
    }
  }

  /** Re-read after every await: a release may have come meanwhile. */
  private isReleased(): boolean {
    return this.state.kind === 'released';
  }

  private set(next: LeaseState): void {
    const was = this.state;
    this.state = next;
    // A new epoch while active matters too: the bot's run writes the shared inbox under the old one.
    const newEpoch = was.kind === 'active' && next.kind === 'active' && was.epoch !== next.epoch;
    if (was.kind !== next.kind || next.kind === 'standby' || newEpoch) for (const listener of [...this.listeners]) listener();
  }

  private tryOnce(): Promise<void> {
    this.attempt ??= this.take().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  private async take(): Promise<void> {
    if (this.isReleased()) return;
    const sentAt = this.now();
    let next = this.o.renewMs;
    try {
      const result = await this.o.store.take(this.o.tokenHash, this.o.node, this.o.instance, this.o.leaseMs);
      if (this.isReleased()) {
        if (result.ours) this.wasActive = true;
        return;
      }
      if (result.ours) this.becomeActive(result.epoch, sentAt + this.o.leaseMs - this.marginMs);
      else {
        this.becomeStandby(result.row, undefined);
        // Try again right when the holder's lease lapses, so a failover does not wait a whole renewMs more.
        if (result.row !== undefined) next = Math.max(20, Math.min(this.o.renewMs, result.row.remainingMs + 20));
      }
    } catch (err) {
      if (this.isReleased()) return;
      this.onFailure(err);
    }
    if (this.isReleased()) return;
    clearTimeout(this.tryTimer);
    this.tryTimer = setTimeout(() => void this.tryOnce(), next);
    this.tryTimer.unref();
  }

  private becomeActive(epoch: number, safeUntil: number): void {
    const remaining = safeUntil - this.now();
    if (remaining <= 0) return; // the answer came too late to count: the lease may already be someone else's
    const before = this.state;
    clearTimeout(this.dropTimer);
    this.dropTimer = setTimeout(() => this.onDeadline(), remaining);
    this.dropTimer.unref();
    if (before.kind === 'active' && before.epoch === epoch) {
      this.state = { kind: 'active', epoch, safeUntil };
      return;
    }
    this.set({ kind: 'active', epoch, safeUntil });
    this.o.onEvent?.('taken', `bot ${this.o.bot}: node ${this.o.node} took the cluster lease (epoch ${epoch})${before.kind === 'standby' && before.seen !== undefined && before.seen.holder !== this.o.node ? `, from node ${before.seen.holder}` : ''}; it polls now`);
  }

  private becomeStandby(seen: LeaseRow | undefined, error: string | undefined): void {
    const before = this.state;
    const prev = before.kind === 'standby' ? before : undefined;
    const same = prev !== undefined && prev.error === error && prev.seen?.holder === seen?.holder && prev.seen?.epoch === seen?.epoch;
    if (before.kind === 'active') clearTimeout(this.dropTimer);
    if (same) {
      this.state = { kind: 'standby', seen, seenAt: this.now(), error };
      return;
    }
    this.set({ kind: 'standby', seen, seenAt: this.now(), error });
    if (before.kind === 'active') this.o.onEvent?.('lost', `bot ${this.o.bot}: node ${this.o.node} lost the cluster lease (${this.problem() ?? ''}); its bot stops polling`);
  }

  /** Our safe time is up without a renewal: stop polling now, before the lease can lapse in PostgreSQL. */
  private onDeadline(): void {
    const s = this.state;
    if (s.kind !== 'active') return;
    if (this.now() < s.safeUntil) {
      this.dropTimer = setTimeout(() => this.onDeadline(), s.safeUntil - this.now());
      this.dropTimer.unref();
      return;
    }
    this.o.logger.warning('the cluster lease could not be renewed in time; stopping polling before it lapses', { bot: this.o.bot, epoch: s.epoch });
    this.becomeStandby(undefined, 'no renewal within the lease');
  }

  private onFailure(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const s = this.state;
    if (s.kind === 'active') {
      // Still ours until safeUntil: the drop timer stops polling then unless a renewal gets through.
      this.o.logger.warning('cannot renew the cluster lease; trying again', { bot: this.o.bot, err });
      return;
    }
    if (s.kind === 'standby' && s.error !== message) this.o.logger.warning('cannot reach PostgreSQL for the cluster lease; trying again', { bot: this.o.bot, err });
    this.becomeStandby(s.kind === 'standby' ? s.seen : undefined, message);
  }
}
