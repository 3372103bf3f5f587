/**
 * The per-bot state machine, in one place. It names the states, lists the legal transitions, owns
 * `BotStateMachine.to()`: the only way a state changes. A state is an object whose `kind` is its
 * name and whose other fields are the data that exists only in that state (the backoff timer,
 * the running process, …), so no field outlives the state it belongs to. An illegal transition
 * is a bug in the supervisor and throws, instead of leaving a bot in a state nobody planned for.
 * Listeners hear every change, so callers wait for a state instead of polling for it.
 *
 *   stopped ──start──▶ starting ──ready──▶ ready
 *      ▲                 │  ▲                │
 *      │        crash/hung/start-timeout     │ crash / hung
 *      │                 ▼  │ timer          ▼
 *      │               backoff ◀─────────────┘
 *      │                 │ crash budget spent, exit 78
 *      │                 ▼
 *      └──stop──── stopping ◀── stop/restart ──  errored (retried every erroredRetryMs, or at once
 *                                                 when its cause is gone; `botvisor restart`)
 *
 *   A polling bot whose token's lock another installation holds (or that was lost) does not
 *   fork at all: any start enters `waiting` instead of `starting`, and the lock coming free
 *   moves it on to `starting`. A lock lost while the bot runs stops it (stopping → waiting).
 */

export type BotState = 'starting' | 'ready' | 'stopping' | 'stopped' | 'backoff' | 'errored' | 'waiting';

export const BOT_STATES: readonly BotState[] = ['starting', 'ready', 'stopping', 'stopped', 'backoff', 'errored', 'waiting'];

const LEGAL: Record<BotState, readonly BotState[]> = {
  // stopped → errored: a bot that cannot even be forked (no implementation of its kind installed)
  stopped: ['starting', 'waiting', 'errored'],
  // starting → starting: exit 42 before ready (restart at once); → waiting: the same, with the lock gone
  starting: ['ready', 'stopping', 'backoff', 'errored', 'stopped', 'starting', 'waiting'],
  ready: ['stopping', 'backoff', 'errored', 'stopped', 'starting', 'waiting'],
  stopping: ['stopped', 'starting', 'waiting'],
  backoff: ['starting', 'stopping', 'stopped', 'errored', 'waiting'],
  // errored → errored: a retry that fails before it forks
  errored: ['starting', 'stopping', 'stopped', 'waiting', 'errored'],
  waiting: ['starting', 'stopped'],
};

export interface StateChange {
  from: BotState;
  to: BotState;
  reason: string;
  at: number;
}

/** A state with its data: `S` is a union of `{ kind: BotState, …data }`, one member per state. */
export class BotStateMachine<S extends { kind: BotState } = { kind: BotState }> {
  private current: S;
  private since: number;
  private readonly listeners = new Set<(change: StateChange) => void>();

  constructor(
    onChange: (change: StateChange) => void = () => undefined,
    private readonly now: () => number = Date.now,
    /** Every bot begins stopped; `S` must have a `stopped` member without data for the default. */
    initial: S = { kind: 'stopped' } as S,
  ) {
    this.current = initial;
    this.since = now();
    this.listeners.add(onChange);
  }

  get state(): BotState {
    return this.current.kind;
  }

  /** The current state with its data. */
  get phase(): S {
    return this.current;
  }

  /** When the current state began (ms since the epoch). */
  get enteredAt(): number {
    return this.since;
  }

  can(to: BotState): boolean {
    return LEGAL[this.current.kind].includes(to);
  }

  to(next: S, reason: string): void {
    if (!this.can(next.kind)) throw new Error(`illegal bot state transition ${this.current.kind} → ${next.kind} (${reason})`);
    const change = { from: this.current.kind, to: next.kind, reason, at: this.now() };
    this.current = next;
    this.since = change.at;
    for (const listener of [...this.listeners]) listener(change);
  }

  /** Calls `listener` after every change until the returned function is called. */
  onChange(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
