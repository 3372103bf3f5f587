/**
 * A fixed-capacity ring of samples: the newest `capacity` kept, the oldest overwritten. Memory is
 * bounded by construction, whatever the uptime.
 */

export class SampleRing<T> {
  private readonly slots: T[] = [];
  private next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('a ring holds at least one sample');
  }

  get size(): number {
    return this.slots.length;
  }

  push(sample: T): void {
    if (this.slots.length < this.capacity) this.slots.push(sample);
    else this.slots[this.next] = sample;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): T[] {
    return this.slots.length < this.capacity ? [...this.slots] : [...this.slots.slice(this.next), ...this.slots.slice(0, this.next)];
  }
}
