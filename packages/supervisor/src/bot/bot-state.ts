/**
 * The per-bot state machine, in one place: the named states, which transitions are legal, and
 * `BotStateMachine.to()`, the only way a state changes. An illegal transition is a bug in the
 * supervisor and throws, instead of leaving a bot in a state nobody planned for.
 *
 *   stopped ──start──▶ starting ──ready──▶ ready
 *      ▲                 │  ▲                │
 *      │        crash/hung/start-timeout     │ crash / hung
 *      │                 ▼  │ timer          ▼
 *      │               backoff ◀─────────────┘
 *      │                 │ crash budget spent, exit 78
 *      │                 ▼
 *      └──stop──── stopping ◀── stop/restart ──  errored (until `botvisor restart`)
 */

export type BotState = 'starting' | 'ready' | 'stopping' | 'stopped' | 'backoff' | 'errored';

export const BOT_STATES: readonly BotState[] = ['starting', 'ready', 'stopping', 'stopped', 'backoff', 'errored'];

const LEGAL: Record<BotState, readonly BotState[]> = {
  stopped: ['starting'],
  // starting → starting: exit 42 before ready (restart at once)
  starting: ['ready', 'stopping', 'backoff', 'errored', 'stopped', 'starting'],
  ready: ['stopping', 'backoff', 'errored', 'stopped', 'starting'],
  stopping: ['stopped', 'starting'],
  backoff: ['starting', 'stopping', 'stopped', 'errored'],
  errored: ['starting', 'stopping', 'stopped'],
};

export interface StateChange {
  from: BotState;
  to: BotState;
  reason: string;
  at: number;
}

export class BotStateMachine {
  private current: BotState = 'stopped';
  private since = Date.now();

  constructor(
    private readonly onChange: (change: StateChange) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BotState {
    return this.current;
  }

  /** When the current state began (ms since the epoch). */
  get enteredAt(): number {
    return this.since;
  }

  can(to: BotState): boolean {
    return LEGAL[this.current].includes(to);
  }

  to(next: BotState, reason: string): void {
    if (!this.can(next)) throw new Error(`illegal bot state transition ${this.current} → ${next} (${reason})`);
    const change = { from: this.current, to: next, reason, at: this.now() };
    this.current = next;
    this.since = change.at;
    this.onChange(change);
  }
}
