/**
 * A session as configured (`bots[].sessions.<name>` in botvisor.json, defaults applied), and the
 * clock its idle timer and turn deadline run on — injected, so a test can stand exactly one
 * second before the idle timeout and send a message.
 */
import type { ParsedSession } from '@botvisor/core';
import type { DeadlineTimers } from '../jobs/terminate/deadlines.js';

export type SessionSpec = ParsedSession;

export type SessionClock = Pick<DeadlineTimers, 'now' | 'setTimeout' | 'clearTimeout'>;

export const realSessionClock: SessionClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
