/**
 * One polled token's polling lock as the supervisor keeps it over its whole life: `held`,
 * `waiting` (another installation, or a bot run by hand, holds it) or `lost` (ours was
 * compromised: the lock folder removed, its file system read-only). While it is not held it is
 * tried again every `retryMs`, so the bot takes over by itself within a second or two of the
 * holder letting go. Every change goes to the listeners: the bot the lock belongs to polls only
 * while it is held (managed-bot.ts), and says why not in its `problem`.
 */
import {
  acquirePollingLock,
  describeLockOwner,
  type HeldLock,
  LockHeldError,
  type LockOwner,
  type Logger,
  pollingLockOwner,
  pollingLockPath,
} from '@botvisor/core';
import type { LockStatus } from './status.js';

/** What a bot needs to know of its token's lock. */
export interface PollingLockGate {
  /** The lock, as the bot's hello carries it, while the supervisor holds it; undefined while not. */
  held(): { path: string; owner: LockOwner } | undefined;
  /** Why the lock is not held, in one sentence a person can act on; undefined while it is. */
  problem(): string | undefined;
  /** Calls `listener` after every change until the returned function is called. */
  onChange(listener: () => void): () => void;
  /**
   * Once the gate is lost: how long the bot may take to stop before someone else may poll (a
   * cluster lease's margin). Undefined: no such deadline, the usual stop grace applies.
   */
  stopWithinMs?(): number | undefined;
  /**
   * Cluster mode, while held: what the bot's run needs for the token's shared inbox — the
   * connection string and the lease epoch it writes under. Undefined on one machine.
   */
  clusterGrant?(): ClusterGrant | undefined;
}

/** The hello's `cluster` field: the shared database, the epoch a bot's run is fenced by, and this node's name. */
export interface ClusterGrant {
  postgres: string;
  tokenHash: string;
  epoch: number;
  node: string;
}

type SlotState =
  | { kind: 'held'; lock: HeldLock }
  /** `holder` is who has it, when the lock said; `error` when taking it failed for another reason. */
  | { kind: 'waiting'; holder: LockOwner | undefined; error: string | undefined }
  /** `why` it was lost; `retakeError` why taking it back failed so far. */
  | { kind: 'lost'; why: string; retakeError: string | undefined }
  | { kind: 'released' };

export interface PollingLockSlotOptions {
  bot: string;
  token: string;
  tokenHash: string;
  locksDir: string;
  /** This installation's config file, written into the owner record. */
  configFile: string;
  logger: Logger;
  /** How often a lock that is not held is tried again. Default 1 s. */
  retryMs?: number;
  /** core's acquirePollingLock (injected for tests). */
  acquire?: typeof acquirePollingLock;
  /** The lock was taken (after waiting or losing it), lost, or found held by someone else. */
  onEvent?: (kind: 'taken' | 'lost' | 'held-elsewhere', message: string) => void;
}

const DEFAULT_RETRY_MS = 1000;

export class PollingLockSlot implements PollingLockGate {
  private state: SlotState = { kind: 'waiting', holder: undefined, error: undefined };
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly retryMs: number;
  /** The ticket of the taking the held lock came from: a compromise report of an older lock is ignored. */
  private taken: object | undefined;

  constructor(private readonly o: PollingLockSlotOptions) {
    this.retryMs = o.retryMs ?? DEFAULT_RETRY_MS;
  }

  get bot(): string {
    return this.o.bot;
  }

  /**
   * The first attempt: waits up to `waitMs` for a holder that is letting go (a supervisor
   * restarting). Errors other than "held" (an unsafe lock folder) are thrown to the caller; after
   * this, the slot keeps trying by itself while the lock is not held.
   */
  async open(waitMs: number): Promise<void> {
    await this.tryTake(waitMs, true);
  }

  held(): { path: string; owner: LockOwner } | undefined {
    return this.state.kind === 'held' ? { path: this.state.lock.lockPath, owner: this.state.lock.owner } : undefined;
  }

  problem(): string | undefined {
    const s = this.state;
    switch (s.kind) {
      case 'held':
      case 'released':
        return undefined;
      case 'waiting':
        if (s.holder !== undefined) return `polling lock for this token is held by ${describeLockOwner(s.holder)}`;
        if (s.error !== undefined) return `cannot take the polling lock for this token: ${s.error}`;
        return 'polling lock for this token is held by a process that has not written its owner record yet';
      case 'lost':
        return `polling lock for this token was lost (${s.why}); polling stays stopped until it is taken again${s.retakeError !== undefined ? ` (last try: ${s.retakeError})` : ''}`;
    }
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): LockStatus {
    const s = this.state;
    const owner = s.kind === 'held' ? s.lock.owner : s.kind === 'waiting' ? s.holder : undefined;
    return {
      tokenHash: this.o.tokenHash,
      path: pollingLockPath(this.o.locksDir, this.o.token),
      owner: owner === undefined ? null : { pid: owner.pid, role: owner.role, since: owner.since, ...(owner.config !== undefined ? { config: owner.config } : {}) },
      bot: this.o.bot,
      held: s.kind === 'held',
      state: s.kind,
      cluster: null, // the lease beside it is added by token-locks.ts
    };
  }

  /** Stops trying and lets the lock go. */
  async release(): Promise<void> {
    clearTimeout(this.timer);
    const before = this.state;
    this.state = { kind: 'released' };
    await this.attempt; // one in flight releases what it took itself
    if (before.kind === 'held') await before.lock.release();
  }

  private set(next: SlotState): void {
    this.state = next;
    for (const listener of [...this.listeners]) listener();
  }

  private tryTake(waitMs: number, throwUnexpected = false): Promise<void> {
    this.attempt ??= this.take(waitMs, throwUnexpected).finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  private async take(waitMs: number, throwUnexpected: boolean): Promise<void> {
    const before = this.state;
    if (before.kind === 'held' || before.kind === 'released') return;
    const acquire = this.o.acquire ?? acquirePollingLock;
    const ticket = {}; // which taking a compromise report belongs to
    let lock: HeldLock;
    try {
      lock = await acquire({
        locksDir: this.o.locksDir,
        token: this.o.token,
        role: 'supervisor',
        config: this.o.configFile,
        timeoutMs: waitMs,
        logger: this.o.logger,
        onCompromised: (err) => this.onCompromised(ticket, err),
      });
    } catch (err) {
      if (throwUnexpected && !(err instanceof LockHeldError)) throw err;
      if (this.state.kind === 'released') return;
      this.onRefused(err);
      this.schedule();
      return;
    }
    if (this.state.kind === 'released') {
      await lock.release().catch(() => undefined);
      return;
    }
    this.taken = ticket;
    this.set({ kind: 'held', lock });
    if (before.kind === 'lost' || before.holder !== undefined || before.error !== undefined) {
      this.o.onEvent?.('taken', `bot ${this.o.bot}: took the polling lock${before.kind === 'lost' ? ' back after losing it' : ' after waiting for it'}`);
    }
  }

  private onRefused(err: unknown): void {
    const s = this.state;
    if (err instanceof LockHeldError) {
      // The holder may be re-read without the lock's help: the owner record is beside it.
      const holder = err.owner ?? pollingLockOwner(this.o.locksDir, this.o.token);
      const same = s.kind === 'waiting' && s.holder?.pid === holder?.pid && s.holder?.startTime === holder?.startTime && s.error === undefined;
      if (same) return;
      this.set({ kind: 'waiting', holder, error: undefined });
      this.o.onEvent?.('held-elsewhere', `bot ${this.o.bot}: ${this.problem() ?? ''}; taking it over as soon as it is free`);
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    if (s.kind === 'lost') {
      if (s.retakeError !== message) this.set({ ...s, retakeError: message });
      return;
    }
    if (s.kind === 'waiting' && s.error === message) return;
    this.o.logger.warning('cannot take the polling lock; trying again', { bot: this.o.bot, err });
    this.set({ kind: 'waiting', holder: undefined, error: message });
  }

  private onCompromised(ticket: object, err: Error): void {
    const s = this.state;
    if (s.kind !== 'held' || this.taken !== ticket) return;
    void s.lock.release().catch(() => undefined); // nothing is left to release; this stops its update timer
    this.set({ kind: 'lost', why: err.message, retakeError: undefined });
    this.o.onEvent?.('lost', `bot ${this.o.bot}: the polling lock was lost (${err.message}); its bot stops polling until the lock is taken back`);
    void this.tryTake(0);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tryTake(0), this.retryMs);
    this.timer.unref();
  }
}
