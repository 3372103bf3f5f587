/**
 * Calls that only decorate a bot — `setMyCommands`, `setMyDescription`, … — tried in the
 * background until they succeed, so that they never fail start-up: a bot without its command menu
 * still answers commands, and a bot that crash-loops because a menu call was rate limited (or
 * answered by something that is not Telegram) answers nothing.
 *
 *   trying ──ok──────────────────────────────▶ applied   (INFO if it took more than one try)
 *     │ ──Telegram refused it (4xx but 429)──▶ refused   (ERROR once: retrying cannot help)
 *     │ ──anything else──▶ waiting ──▶ trying          (WARNING each time, backoff or retry_after)
 *   stop() from any state ───────────────────▶ stopped   (the call in flight is aborted)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@botvisor/core';
import { TelegramApiError } from 'node-telegram-bot-api';
import { Backoff } from '../polling/backoff.js';
import { describeApiError } from './describe-api-error.js';

export type DecorationState = 'trying' | 'waiting' | 'applied' | 'refused' | 'stopped';

export interface DecorationOptions {
  /** What the call does, for the log, e.g. "set the command menu (setMyCommands)". */
  what: string;
  /** The call; pass `signal` on to the API so that stop() aborts it. */
  call: (signal: AbortSignal) => Promise<unknown>;
  logger: Logger;
  /** Default: 2 s doubling to 5 min. */
  backoff?: Backoff;
}

export interface Decoration {
  readonly state: DecorationState;
  /** Failed attempts so far. */
  readonly failures: number;
  /** Resolves with the final state: applied, refused or stopped. Never rejects. */
  readonly settled: Promise<DecorationState>;
  /** Stops trying and aborts the call in flight; resolves once the loop has ended. */
  stop(): Promise<void>;
}

/** Telegram itself said no (bad parameters, forbidden): the same call would be refused again. */
function isFinalRefusal(err: unknown): err is TelegramApiError {
  return err instanceof TelegramApiError && typeof err.errorCode === 'number' && err.errorCode >= 400 && err.errorCode < 500 && err.errorCode !== 429;
}

function waitAfter(err: unknown, backoff: Backoff): number {
  if (err instanceof TelegramApiError && err.errorCode === 429) return Math.max(1, err.retryAfter ?? 1) * 1000;
  return backoff.next();
}

/** Starts trying `options.call` now; returns at once. */
export function decorateInBackground(options: DecorationOptions): Decoration {
  const { what, call, logger } = options;
  const backoff = options.backoff ?? new Backoff({ initialMs: 2000, maxMs: 300_000 });
  const controller = new AbortController();
  const signal = controller.signal;
  let state: DecorationState = 'trying';
  let failures = 0;
  /** The one place that changes state. */
  const become = (next: DecorationState): DecorationState => {
    state = next;
    return next;
  };

  const run = async (): Promise<DecorationState> => {
    while (!signal.aborted) {
      become('trying');
      try {
        await call(signal);
        if (signal.aborted) break;
        if (failures > 0) logger.info(`${what}: done after ${failures + 1} attempts`);
        return become('applied');
      } catch (err) {
        if (signal.aborted) break; // shutting down: the abort is ours, not news
        failures++;
        if (isFinalRefusal(err)) {
          logger.error(`could not ${what}: Telegram refused it; not trying again (the bot works without it)`, { error: describeApiError(err) });
          return become('refused');
        }
        const retryInMs = waitAfter(err, backoff);
        logger.warning(`could not ${what}; trying again in the background (the bot works without it)`, { error: describeApiError(err), attempt: failures, retryInMs });
        become('waiting');
        await sleep(retryInMs, undefined, { signal }).catch(() => undefined);
      }
    }
    return become('stopped');
  };

  const settled = run();
  return {
    get state() {
      return state;
    },
    get failures() {
      return failures;
    },
    settled,
    async stop() {
      controller.abort();
      await settled;
    },
  };
}
