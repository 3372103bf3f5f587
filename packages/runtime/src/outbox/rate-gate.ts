/**
 * Proactive flood control: waits until a message may go out under Telegram's limits, so 429s stay
 * the exception. Tiers, each a token bucket (token-bucket.ts): per group (20/min; the
 * library has no such tier), per chat (1/s), bot-wide (~30/s). Group chats are the ones with
 * negative ids (groups, supergroups, channels).
 *
 * Why not the library's `RateLimiter`: its shared bucket wakes every waiting send for each free
 * slot, and the first to run wins, so under a backlog a chat can be passed over again and again.
 * Here the bot-wide bucket is taken by one waiter at a time, in arrival order: each free slot wakes
 * one send, and chats are served fairly. (Measured with scripts/bench/dispatch at default limits:
 * the CPU per reply stayed the same, ~4.5 ms while paced at 30/s; this is about order, not speed.)
 * When every tier has a token and nobody waits for the bot-wide one, `tryMessage` takes the slot
 * at once, without awaits (see token-bucket.ts for why that matters).
 */
import { TokenBucket } from './token-bucket.js';

export interface RateLimits {
  /** Messages per second across all chats. Default 30. */
  globalPerSec?: number;
  /** Messages per second in one chat. Default 1. */
  perChatPerSec?: number;
  /** Messages per minute in one group. Default 20. */
  perGroupPerMin?: number;
  /** Messages a group may get at once before the per-minute pace applies. Default 1 (strict). */
  groupBurst?: number;
}

export const DEFAULT_RATE_LIMITS: Required<RateLimits> = { globalPerSec: 30, perChatPerSec: 1, perGroupPerMin: 20, groupBurst: 1 };

export function isGroupChat(chatId: number | string): boolean {
  return typeof chatId === 'string' ? chatId.startsWith('@') || chatId.startsWith('-') : chatId < 0;
}

const MAX_BUCKETS = 10_000;

export class RateGate {
  private readonly groups = new Map<string, TokenBucket>();
  private readonly chats = new Map<string, TokenBucket>();
  private readonly bucketWide: TokenBucket;
  /** The tail of the queue of sends waiting for the bot-wide bucket. */
  private globalTurn: Promise<void> = Promise.resolve();
  /** Sends waiting in that queue: while any does, no one takes a bot-wide slot past it. */
  private globalWaiting = 0;
  private readonly limits: Required<RateLimits>;

  constructor(
    limits: RateLimits = {},
    private readonly now?: () => number,
  ) {
    this.limits = { ...DEFAULT_RATE_LIMITS, ...limits };
    this.bucketWide = new TokenBucket(this.limits.globalPerSec, { burst: this.limits.globalPerSec, ...this.clock() });
  }

  /** Takes a message slot in `chatId` now if every tier has one and no send waits before it; false (nothing taken) means await `message`. */
  tryMessage(chatId: number | string): boolean {
    if (this.globalWaiting > 0) return false;
    const key = String(chatId);
    const group = isGroupChat(chatId) ? this.bucket(this.groups, key, this.limits.perGroupPerMin / 60, this.limits.groupBurst) : undefined;
    const chat = this.bucket(this.chats, key, this.limits.perChatPerSec, 1);
    if ((group?.waitMs() ?? 0) > 0 || chat.waitMs() > 0 || this.bucketWide.waitMs() > 0) return false;
    group?.tryTake();
    chat.tryTake();
    this.bucketWide.tryTake();
    return true;
  }

  /** Takes a bot-wide slot now if one is there and no send waits before it; false means await `global`. */
  tryGlobal(): boolean {
    return this.globalWaiting === 0 && this.bucketWide.tryTake();
  }

  /** Waits for a message slot in `chatId`: group tier, chat tier, then the bot-wide budget. */
  async message(chatId: number | string, signal?: AbortSignal): Promise<void> {
    const key = String(chatId);
    if (isGroupChat(chatId)) await this.bucket(this.groups, key, this.limits.perGroupPerMin / 60, this.limits.groupBurst).take(signal);
    await this.bucket(this.chats, key, this.limits.perChatPerSec, 1).take(signal);
    await this.global(signal);
  }

  /** Waits for a slot of the bot-wide budget only (chat actions, callback answers): one waiter at a time, first come first served. */
  global(signal?: AbortSignal): Promise<void> {
    this.globalWaiting++;
    const turn = this.globalTurn.then(() => this.bucketWide.take(signal)).finally(() => this.globalWaiting--);
    this.globalTurn = turn.catch(() => undefined); // an aborted waiter does not hold up the next
    return turn;
  }

  private clock(): { now?: () => number } {
    return this.now !== undefined ? { now: this.now } : {};
  }

  /** A bucket per key, least recently used evicted past MAX_BUCKETS so memory stays bounded. */
  private bucket(map: Map<string, TokenBucket>, key: string, ratePerSec: number, burst: number): TokenBucket {
    let bucket = map.get(key);
    if (bucket === undefined) {
      if (map.size >= MAX_BUCKETS) map.delete(map.keys().next().value as string);
      bucket = new TokenBucket(ratePerSec, { burst, ...this.clock() });
    } else {
      map.delete(key); // re-insert: most recently used last
    }
    map.set(key, bucket);
    return bucket;
  }
}
