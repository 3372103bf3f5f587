/**
 * Proactive flood control: waits until a message may go out under Telegram's limits, so 429s stay
 * the exception. node-telegram-bot-api v2's `RateLimiter` covers the bot-wide limit (~30/s) and
 * the per-chat limit (1/s); a per-group bucket (20/min) is added here because the library has no
 * such tier. Group chats are the ones with negative ids (groups, supergroups, channels).
 */
import { RateLimiter, TokenBucket } from 'node-telegram-bot-api';

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

export class RateGate {
  private readonly limiter: RateLimiter;
  private readonly groups = new Map<string, TokenBucket>();
  private readonly limits: Required<RateLimits>;

  constructor(
    limits: RateLimits = {},
    private readonly now?: () => number,
  ) {
    this.limits = { ...DEFAULT_RATE_LIMITS, ...limits };
    const clock = now !== undefined ? { now } : {};
    this.limiter = new RateLimiter({ global: this.limits.globalPerSec, perChat: this.limits.perChatPerSec, ...clock });
  }

  /** Waits for a message slot in `chatId`: group tier, then global and chat. */
  async message(chatId: number | string, signal?: AbortSignal): Promise<void> {
    if (isGroupChat(chatId)) await this.groupBucket(String(chatId)).take(signal);
    await this.limiter.acquire(chatId, signal);
  }

  /** Waits for a slot of the bot-wide budget only (chat actions, callback answers). */
  async global(signal?: AbortSignal): Promise<void> {
    // The same limiter without a chat id: one bot-wide bucket governs every path.
    await this.limiter.acquire(undefined, signal);
  }

  private groupBucket(key: string): TokenBucket {
    let bucket = this.groups.get(key);
    if (bucket === undefined) {
      if (this.groups.size >= 10_000) this.groups.delete(this.groups.keys().next().value as string);
      bucket = new TokenBucket(this.limits.perGroupPerMin / 60, { burst: this.limits.groupBurst, ...(this.now !== undefined ? { now: this.now } : {}) });
      this.groups.set(key, bucket);
    }
    return bucket;
  }
}
