/**
 * Follows one chat's transcript at the simulator as it grows: reads what is new after its cursor,
 * then holds a long poll on the sim's wait route until the bot writes again (or a while passes),
 * and reads again. No tight polling; `wake()` cuts a wait short, `stop()` ends it all. It only
 * fetches and hands entries on; showing them is chat-render.ts's job.
 */
import { SimClient, SimClientError, type TranscriptEntry } from '@botvisor/bot-api-sim';

export interface FollowerOptions {
  simUrl: string;
  token: string;
  chatId: number;
  onEntries: (entries: TranscriptEntry[]) => void;
  /** The simulator went away (or refused for good); the follower has stopped. */
  onLost: (err: unknown) => void;
  /** How long one wait is held; the wait route wakes early on a bot message, chat actions and tap answers show at the latest after this. Default 5000. */
  waitMs?: number;
}

export class TranscriptFollower {
  private cursor = 0;
  private stopped = false;
  private current = new AbortController();

  constructor(private readonly o: FollowerOptions) {}

  /** A client whose every request ends when the current wait is cut short. */
  private client(signal: AbortSignal) {
    return new SimClient(this.o.simUrl, { fetch: (input, init) => fetch(input, { ...init, signal }) }).bot(this.o.token);
  }

  /** Everything in the chat so far (not passed to onEntries); following starts after it. Empty when the bot does not know the chat yet. */
  async history(): Promise<TranscriptEntry[]> {
    try {
      const page = await this.client(this.current.signal).transcript(this.o.chatId, 0);
      this.cursor = page.cursor;
      return page.entries;
    } catch (err) {
      if (isChatNotFound(err)) return [];
      throw err;
    }
  }

  /** Runs until stop() or the simulator is lost. */
  async follow(): Promise<void> {
    const waitMs = this.o.waitMs ?? 5000;
    while (!this.stopped) {
      const round = new AbortController();
      this.current = round;
      const client = this.client(round.signal);
      try {
        const page = await client.transcript(this.o.chatId, this.cursor);
        if (page.entries.length > 0) {
          this.cursor = page.cursor;
          this.o.onEntries(page.entries);
        }
        await client.waitForMessage(this.o.chatId, { after: this.cursor, timeoutMs: waitMs });
      } catch (err) {
        if (this.stopped) return;
        if (round.signal.aborted) continue; // woken: read again at once
        if (err instanceof SimClientError && err.errorCode === 408) continue; // the wait ran out quietly
        if (isChatNotFound(err)) {
          // Nobody wrote in this chat yet, so nothing can appear until the user does (which wakes us).
          await abortedOrAfter(round.signal, waitMs);
          continue;
        }
        this.stopped = true;
        this.o.onLost(err);
        return;
      }
    }
  }

  /** Cuts the current wait short: something was just sent, look again now. */
  wake(): void {
    this.current.abort();
  }

  stop(): void {
    this.stopped = true;
    this.current.abort();
  }
}

function isChatNotFound(err: unknown): boolean {
  return err instanceof SimClientError && err.errorCode === 400 && /chat not found/.test(err.description);
}

function abortedOrAfter(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
