/**
 * The sessions' budget: what each user's turns cost per session per UTC day, as the agent
 * reported it, kept in the durable store (so a restart or a restored backup keeps the day's
 * figures). `check` answers "may this user start one more turn?" with the figures either way;
 * `add` books a finished turn. Both are single synchronous store updates: atomic.
 */
import type { TurnUsage } from './protocols/protocol.js';
import type { SessionsStore, SessionUsage } from './sessions-file.js';

export interface Budget {
  dailyCostUsd?: number | undefined;
  dailyTokens?: number | undefined;
}

export type BudgetVerdict = { ok: true; used: SessionUsage } | { ok: false; used: SessionUsage; budget: Budget; day: string };

export class BudgetLedger {
  constructor(
    private readonly store: SessionsStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Used today by `userId` in session `name`. */
  used(userId: number, name: string): SessionUsage {
    const { ledger } = this.store.read();
    if (ledger.day !== this.today()) return { costUsd: 0, tokens: 0 };
    const u = ledger.used[key(userId, name)];
    return u !== undefined ? { costUsd: u.costUsd, tokens: u.tokens } : { costUsd: 0, tokens: 0 };
  }

  /** Over budget once either figure reached its limit. */
  check(userId: number, name: string, budget: Budget | undefined): BudgetVerdict {
    const used = this.used(userId, name);
    if (budget === undefined) return { ok: true, used };
    const overCost = budget.dailyCostUsd !== undefined && used.costUsd >= budget.dailyCostUsd;
    const overTokens = budget.dailyTokens !== undefined && used.tokens >= budget.dailyTokens;
    return overCost || overTokens ? { ok: false, used, budget, day: this.today() } : { ok: true, used };
  }

  add(userId: number, name: string, usage: TurnUsage): void {
    if (usage.costUsd === 0 && usage.tokens === 0) return;
    this.store.update((file) => {
      const day = this.today();
      if (file.ledger.day !== day) file.ledger = { day, used: {} };
      const k = key(userId, name);
      const before = file.ledger.used[k] ?? { costUsd: 0, tokens: 0 };
      file.ledger.used[k] = { costUsd: before.costUsd + usage.costUsd, tokens: before.tokens + usage.tokens };
    });
  }

  private today(): string {
    return this.now().toISOString().slice(0, 10);
  }
}

function key(userId: number, name: string): string {
  return `${userId}:${name}`;
}
