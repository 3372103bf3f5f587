/**
 * The shape of a Bot API method in the sim: a handler that gets the bot, its parameters and a
 * cancellation signal, and returns the `result` (or throws an `ApiError`). Transport concerns
 * (envelope, faults, pending-poller counting) stay in bot-api.ts.
 */
import type { BotState } from '../bot-state.js';
import type { Params } from '../params.js';
import type { Simulator } from '../simulator.js';

export interface MethodContext {
  readonly sim: Simulator;
  readonly bot: BotState;
  readonly params: Params;
  /** For getUpdates: aborted when its connection closes unanswered (client gone, or the sim closing). Otherwise the sim's closing signal. */
  readonly signal: AbortSignal;
}

/** A result with the `description` some successful answers carry (e.g. "Webhook was set"). */
export class Described {
  constructor(
    readonly result: unknown,
    readonly description: string,
  ) {}
}

export type MethodHandler = (context: MethodContext) => unknown;

/** Methods by their canonical (camelCase) name. */
export type MethodGroup = Readonly<Record<string, MethodHandler>>;
