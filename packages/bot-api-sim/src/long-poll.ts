/**
 * getUpdates long polling for one bot: at most one poll is held open; a newer getUpdates (or a
 * setWebhook) ends the held one with a 409, exactly as Telegram does. A held poll answers as soon
 * as an update is queued, or with an empty list when its timeout runs out. Counting pending
 * pollers is the HTTP layer's job (it sees requests before their bodies are read).
 */
import { type ApiError, conflictOtherPoll } from './envelope.js';
import type { Update } from './telegram-types.js';
import type { UpdateQueue } from './update-queue.js';

export interface PollRequest {
  offset: number;
  /** 1–100, already clamped. */
  limit: number;
  /** Seconds; 0 answers at once (short polling). */
  timeoutSeconds: number;
  /** Aborted when nobody waits for the answer any more (client gone, sim closing): the poll gives up quietly. */
  signal: AbortSignal;
}

interface HeldPoll {
  end(error: ApiError): void;
}

/** setTimeout's ceiling; a longer wait would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class PollerSlot {
  private held: HeldPoll | undefined;

  constructor(private readonly queue: UpdateQueue) {}

  get isHolding(): boolean {
    return this.held !== undefined;
  }

  /** Ends the held poll, if any, with `error` (a 409). */
  terminate(error: ApiError): void {
    const held = this.held;
    this.held = undefined;
    held?.end(error);
  }

  poll(request: PollRequest): Promise<Update[]> {
    if (this.held !== undefined) this.terminate(conflictOtherPoll());
    this.queue.confirm(request.offset);
    const ready = this.queue.peek(request.limit);
    if (ready.length > 0 || request.timeoutSeconds <= 0 || request.signal.aborted) return Promise.resolve(ready);

    return new Promise<Update[]>((resolve, reject) => {
      const settle = (outcome: () => void): void => {
        clearTimeout(timer);
        unsubscribe();
        request.signal.removeEventListener('abort', onAbort);
        if (this.held === held) this.held = undefined;
        outcome();
      };
      const held: HeldPoll = { end: (error) => settle(() => reject(error)) };
      const onAbort = (): void => settle(() => resolve([]));
      const timer = setTimeout(() => settle(() => resolve([])), Math.min(request.timeoutSeconds * 1000, MAX_TIMER_MS));
      const unsubscribe = this.queue.onPush(() => settle(() => resolve(this.queue.peek(request.limit))));
      request.signal.addEventListener('abort', onAbort, { once: true });
      this.held = held;
    });
  }
}
