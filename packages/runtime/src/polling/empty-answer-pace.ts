/**
 * The pace of empty getUpdates answers. Telegram holds a long poll until an update arrives or the
 * timeout ends, so an empty answer normally comes after many seconds. A server that answers at
 * once (telegram-test-api, a proxy, short polling) would otherwise turn the loop into a busy loop
 * of HTTP requests. No update is lost by waiting: the next poll collects what arrived meanwhile.
 */

/** Empty answers are at least this far apart; an update still gets through within this much. */
export const MIN_EMPTY_POLL_INTERVAL_MS = 500;

/** How long to wait before the next poll after an empty answer that took `elapsedMs`. */
export function pauseAfterEmptyAnswer(elapsedMs: number): number {
  return Math.max(0, MIN_EMPTY_POLL_INTERVAL_MS - elapsedMs);
}
