/**
 * The rule every DurableStore's `update(fn)` keeps, whatever backend writes it: `fn` changes the
 * data in place and synchronously; the change is scheduled for writing even when `fn` throws
 * (memory is the truth, and the written copy must not silently disagree with it); an async `fn`
 * is refused, since what it changes after an await would not be written reliably.
 */

function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Runs `fn` on `data`, then `changed()` (also when `fn` threw); a thenable result is a TypeError naming `file`. */
export function applySynchronousUpdate<T, R>(file: string, data: T, fn: (draft: T) => R, changed: () => void): R {
  let result: R;
  try {
    result = fn(data);
  } finally {
    changed();
  }
  if (isThenable(result)) {
    // Its rejection, if any, is reported by the TypeError below, not as an unhandled rejection.
    (result as PromiseLike<unknown>).then(undefined, () => undefined);
    throw new TypeError(`${file}: store.update(fn) needs a synchronous fn; changes made after an await are not saved reliably`);
  }
  return result;
}
