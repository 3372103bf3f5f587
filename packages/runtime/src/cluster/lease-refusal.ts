/**
 * The first refused cluster write of a run, kept: the fenced error is made and the bot told once
 * (whichever write hit the fence first), and every write after that fails at once with the same
 * error. Shared by the cluster inbox and the cluster documents.
 */
import type { LeaseFencedError } from './lease-fenced-error.js';

export class LeaseRefusal<E extends LeaseFencedError> {
  private first: E | undefined;

  constructor(
    /** The error for this run's epoch, given the lease's current epoch (undefined if it could not be read). */
    private readonly errorFor: (currentEpoch: number | undefined) => E,
    /** Told once, at the first refusal: the bot must stop. */
    private readonly tell: (err: E) => void,
    private readonly readCurrentEpoch: () => Promise<number | undefined>,
  ) {}

  /** The first refusal, once there was one. */
  get error(): E | undefined {
    return this.first;
  }

  /** Before a write: fails at once after a refusal. */
  throwIfRefused(): void {
    if (this.first !== undefined) throw this.first;
  }

  /** A fenced statement changed nothing: records the refusal (telling the bot the first time) and throws. */
  async refuse(): Promise<never> {
    const err = this.first ?? this.errorFor(await this.readCurrentEpoch().catch(() => undefined));
    if (this.first === undefined) {
      this.first = err;
      this.tell(err);
    }
    throw err;
  }
}
