/**
 * The allow list: with one configured, only those user ids reach a handler. Everyone else gets
 * one "not authorized" reply (then at most one per quiet period, so a stranger cannot make the
 * bot spam) and no handler runs. Without an allow list everyone is allowed.
 */

export type AuthVerdict = { allowed: true } | { allowed: false; notify: boolean };

export class Authorizer {
  private readonly allowed: Set<number> | undefined;
  private readonly lastNotice = new Map<number, number>();

  constructor(
    allow: readonly number[] | undefined,
    private readonly quietMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.allowed = allow === undefined ? undefined : new Set(allow);
  }

  get restricted(): boolean {
    return this.allowed !== undefined;
  }

  check(userId: number | undefined): AuthVerdict {
    if (this.allowed === undefined) return { allowed: true };
    if (userId !== undefined && this.allowed.has(userId)) return { allowed: true };
    if (userId === undefined) return { allowed: false, notify: false };
    const now = this.now();
    const last = this.lastNotice.get(userId);
    const notify = last === undefined || now - last >= this.quietMs;
    if (notify) {
      this.lastNotice.set(userId, now);
      if (this.lastNotice.size > 10_000) this.lastNotice.delete(this.lastNotice.keys().next().value as number);
    }
    return { allowed: false, notify };
  }
}
