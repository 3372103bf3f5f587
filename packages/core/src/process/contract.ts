/**
 * The contract between a bot process and the supervisor that forks it, in one place: the exit
 * codes a bot uses to say what happened, the environment names the supervisor sets (and every
 * descendant inherits), and the key that names one process for its whole life.
 */
import type { ProcessRef } from './identity.js';

/** Clean stop (SIGTERM, IPC shutdown, lost supervisor): do not restart. */
export const EXIT_OK = 0;
/** Something broke (an unhandled error, a failed start-up step): restart with backoff. */
export const EXIT_FAILURE = 1;
/** "Restart me" (`/restart`): restart at once, not counted as a crash. */
export const EXIT_RESTART = 42;
/** Bad token or config (EX_CONFIG): restarting cannot help; mark the bot errored. */
export const EXIT_CONFIG = 78;

/** Set to `1` by a supervisor that holds this bot's polling lock: the bot polls without taking it. */
export const SKIP_TELEGRAM_LOCK_VAR = 'SKIP_TELEGRAM_LOCK';
/** The tree cookie: every process botvisor starts carries it, and its descendants inherit it. */
export const TREE_COOKIE_VAR = 'BOTVISOR_TREE';
/** One CLI job's own marker, so stopping one job never touches another job's processes. */
export const JOB_MARKER_VAR = 'BOTVISOR_JOB';
/**
 * Set to 1 on the replacement process of a reload: it loads its module and config, says `standby`
 * over IPC and opens none of the bot's files until the supervisor says `take-over` (the old
 * process has closed them by then). See runtime/src/lifecycle/standby.ts.
 */
export const STANDBY_VAR = 'BOTVISOR_STANDBY';

/** `pid@startTime`: unique for a process's whole life, never reused by a later process with its pid. */
export function processKey(ref: Pick<ProcessRef, 'pid' | 'startTime'>): string {
  return `${ref.pid}@${ref.startTime}`;
}

/**
 * A bot that cannot start (or must stop for good) writes one line `botvisor-bot: <why>` to stderr
 * before it exits — the thrown message, not a stack — and the supervisor shows `<why>` as the
 * bot's problem. `<why>` names what to fix: the token, the config or the module.
 */
export const REASON_LINE_PREFIX = 'botvisor-bot: ';
