/**
 * Waiting for a condition with a deadline, instead of a fixed sleep. On time-out the error says
 * what was awaited and what was last seen, so a red test explains itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What is being awaited, for the error message. */
  what?: string;
}

/** Polls `probe` until it returns a value other than `undefined`/`false`, and returns that value. */
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitForOptions = {}): Promise<Exclude<T, false | undefined>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (last !== undefined && last !== false) return last as Exclude<T, false | undefined>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const seen = lastError instanceof Error ? `error: ${lastError.message}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'condition'} (${seen})`);
    }
    await sleep(intervalMs);
  }
}
