/**
 * Telegram's flood limits for bots, per bot: about one message a second in a chat (with a small
 * burst), 20 a minute in a group, 30 a second overall. A message over a limit is refused with
 * `429 Too Many Requests: retry after N` and takes no slot. Modes: `off`, `telegram` (the limits
 * above) and `strict` (the same rates with no bursts); any limit can be overridden. Time comes from
 * the injected clock so unit tests can step it.
 */
import type { Clock } from './clock.js';
import type { ChatType } from './telegram-types.js';
import { TokenBucket } from './token-bucket.js';

export type FloodMode = 'off' | 'telegram' | 'strict';

export interface FloodLimits {
  perChatPerSecond: number;
  perChatBurst: number;
  perGroupPerMinute: number;
  perGroupBurst: number;
  /** Across all chats of one bot. */
  overallPerSecond: number;
  overallBurst: number;
}

export interface FloodSettings {
  mode: FloodMode;
  /** Overrides of the mode's limits (ignored when the mode is `off`). */
  limits?: Partial<FloodLimits>;
}

export interface EffectiveFloodSettings {
  mode: FloodMode;
  limits: FloodLimits;
}

export const FLOOD_PRESETS: Readonly<Record<Exclude<FloodMode, 'off'>, FloodLimits>> = {
  telegram: { perChatPerSecond: 1, perChatBurst: 3, perGroupPerMinute: 20, perGroupBurst: 20, overallPerSecond: 30, overallBurst: 30 },
  strict: { perChatPerSecond: 1, perChatBurst: 1, perGroupPerMinute: 20, perGroupBurst: 1, overallPerSecond: 30, overallBurst: 1 },
};

/** Past this many buckets, idle (full) ones are forgotten. */
const PRUNE_AT = 10_000;

export function isFloodMode(value: unknown): value is FloodMode {
  return value === 'off' || value === 'telegram' || value === 'strict';
}

export class FloodControl {
  private current: EffectiveFloodSettings;
  private buckets = new Map<string, TokenBucket>();

  constructor(
    settings: FloodSettings,
    private readonly clock: Clock,
  ) {
    this.current = FloodControl.resolve(settings);
  }

  private static resolve(settings: FloodSettings): EffectiveFloodSettings {
    const base = FLOOD_PRESETS[settings.mode === 'off' ? 'telegram' : settings.mode];
    const limits = { ...base, ...settings.limits };
    for (const [name, value] of Object.entries(limits)) {
      if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`flood limit ${name} must be a positive number`);
    }
    return { mode: settings.mode, limits };
  }

  /** Changes the mode or limits; every bucket starts full again. */
  configure(settings: FloodSettings): EffectiveFloodSettings {
    this.current = FloodControl.resolve(settings);
    this.buckets.clear();
    return this.settings();
  }

  settings(): EffectiveFloodSettings {
    return { mode: this.current.mode, limits: { ...this.current.limits } };
  }

  /** Takes a message slot for bot `botId` in `chat`; or, when a limit is hit, returns whole seconds to wait and takes nothing. */
  admit(botId: number, chat: { id: number; type: ChatType }): number | undefined {
    if (this.current.mode === 'off') return undefined;
    const now = this.clock.now();
    const { limits } = this.current;
    const buckets = [
      this.bucket(`${botId}`, limits.overallPerSecond / 1000, limits.overallBurst, now),
      this.bucket(`${botId}:${chat.id}`, limits.perChatPerSecond / 1000, limits.perChatBurst, now),
    ];
    if (chat.type !== 'private') buckets.push(this.bucket(`${botId}:${chat.id}:group`, limits.perGroupPerMinute / 60_000, limits.perGroupBurst, now));
    const waitMs = Math.max(...buckets.map((b) => b.waitMs(now)));
    if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / 1000));
    for (const bucket of buckets) bucket.take(now);
    return undefined;
  }

  /** Forgets all counts (every bucket full again); the settings stay. */
  reset(): void {
    this.buckets.clear();
  }

  private bucket(key: string, perMs: number, burst: number, now: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= PRUNE_AT) this.prune(now);
      bucket = new TokenBucket(perMs, burst, now);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }
}
