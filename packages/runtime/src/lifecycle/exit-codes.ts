/**
 * Exit codes a bot process uses to tell the supervisor what happened. The supervisor's restart
 * policy reads them; people read them in `botvisor status` as the last exit cause.
 */

/** Clean stop (SIGTERM, IPC shutdown, lost supervisor): do not restart. */
export const EXIT_OK = 0;
/** Something broke (an unhandled error, a failed start-up step): restart with backoff. */
export const EXIT_FAILURE = 1;
/** "Restart me" (`/restart`): restart at once, not counted as a crash. */
export const EXIT_RESTART = 42;
/** Bad token or config (EX_CONFIG): restarting cannot help; mark the bot errored. */
export const EXIT_CONFIG = 78;
