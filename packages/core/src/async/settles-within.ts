/**
 * "Wait for this, but at most N ms": resolves true when `promise` fulfils within `ms`, false when
 * the time runs out first (the promise keeps running; nothing is cancelled). A rejection within
 * the time is passed on. The timer is cleared either way and never keeps the process alive.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
