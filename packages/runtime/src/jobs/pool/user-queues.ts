/**
 * Decides whose job runs next: a FIFO queue of job ids per user, with a rotation over users so one
 * user with ten queued jobs cannot starve another with one. A user with a job running is skipped (one job per
 * user at a time, so a user's jobs run in the order they were sent).
 */

export class UserQueues {
  /** Map order is the rotation: a user moves to the back after one of their jobs starts. */
  private readonly queues = new Map<number, number[]>();

  push(userId: number, jobId: number): void {
    const q = this.queues.get(userId);
    if (q === undefined) this.queues.set(userId, [jobId]);
    else q.push(jobId);
  }

  remove(userId: number, jobId: number): boolean {
    const q = this.queues.get(userId);
    const at = q?.indexOf(jobId) ?? -1;
    if (q === undefined || at < 0) return false;
    q.splice(at, 1);
    if (q.length === 0) this.queues.delete(userId);
    return true;
  }

  /** The user's waiting job ids, in order. */
  of(userId: number): readonly number[] {
    return this.queues.get(userId) ?? [];
  }

  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Takes the next job of the first user (in rotation) who is not busy. */
  next(isBusy: (userId: number) => boolean): { userId: number; jobId: number } | undefined {
    for (const [userId, q] of this.queues) {
      if (isBusy(userId)) continue;
      const jobId = q.shift() as number;
      this.queues.delete(userId);
      if (q.length > 0) this.queues.set(userId, q); // to the back of the rotation
      return { userId, jobId };
    }
    return undefined;
  }
}
