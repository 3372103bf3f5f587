/**
 * Proactive flood control: waits until a message may go out under Telegram's limits, so 429s stay
 * the exception. Tiers, each a token bucket (token-bucket.ts): per group (20/min; the
 * library has no such tier), per chat (1/s), bot-wide (~30/s). Group chats are the ones with
 * negative ids (groups, supergroups, channels).
 *
 * Why not the library's `RateLimiter`: its shared bucket wakes every waiting send for each free
 * slot, and the first to run wins, so under a backlog a chat can be passed over again and again.
 * Here the bot-wide slots go to the waiters in arrival order, a slot to each, so chats are served
 * fairly. When every tier has a token and nobody waits for the bot-wide one, `tryMessage` takes the slot
 * at once, without awaits (see token-bucket.ts for why that matters).
 *
 * Waiting sends share one timer (wake-timer.ts) instead of one per send and tier: paced at 30/s,
 * a timer per send was an event-loop wake per send on top of its answer, and each such wake runs
 * cold code (~1 ms of CPU per paced reply, BENCHMARKS.md, "Issue 18, CPU pass"). When sends queue
 * for the bot-wide budget (a backlog: they leave at its rate whatever we do), the gate wakes once
 * a step's worth of slots has refilled (`backlogStepMs`, 500 ms: 15 slots at 30/s), or fewer if
 * fewer wait, and lets them all go on that wake; a send waiting only for its own chat or group
 * wakes the gate the moment its slot is there. So a send with a free slot still leaves at once,
 * one chat's pace is exact, a backlog's sends leave at most a step after their slots, and each
 * send holds a token of every tier it passes: the limits are the buckets' exactly.
 */
import { TokenBucket } from './token-bucket.js';
import { type TimerFunctions, WakeTimer } from './wake-timer.js';

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

/** How much later than its slot a send of a backlog may leave, so that a wake lets several go (see above). */
export const DEFAULT_BACKLOG_STEP_MS = 500;

export function isGroupChat(chatId: number | string): boolean {
  return typeof chatId === 'string' ? chatId.startsWith('@') || chatId.startsWith('-') : chatId < 0;
}

const MAX_BUCKETS = 10_000;

/** A send waiting for its slot. */
interface Waiter {
  /** The tiers it passes before the bot-wide queue; none for a bot-wide-only call. */
  group: TokenBucket | undefined;
  chat: TokenBucket | undefined;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class RateGate {
  private readonly groups = new Map<string, TokenBucket>();
  private readonly chats = new Map<string, TokenBucket>();
  private readonly bucketWide: TokenBucket;
  /** Sends waiting for a slot of their chat (and group), in arrival order. */
  private tierWaiting: Waiter[] = [];
  /** Sends past their own tiers, waiting for a bot-wide slot: first come, first served; while any does, no one passes it. */
  private readonly globalQueue: Waiter[] = [];
  private readonly timer: WakeTimer;
  private readonly limits: Required<RateLimits>;

  /** Bot-wide slots a backlog waits for before a wake lets them go together: the step's worth. */
  private readonly batchSlots: number;

  constructor(
    limits: RateLimits = {},
    private readonly now?: () => number,
    options: { timers?: TimerFunctions; backlogStepMs?: number } = {},
  ) {
    this.limits = { ...DEFAULT_RATE_LIMITS, ...limits };
    this.bucketWide = new TokenBucket(this.limits.globalPerSec, { burst: this.limits.globalPerSec, ...this.clock() });
    this.batchSlots = Math.max(1, Math.floor((this.limits.globalPerSec * (options.backlogStepMs ?? DEFAULT_BACKLOG_STEP_MS)) / 1000));
    this.timer = new WakeTimer(() => this.release(), now ?? Date.now, options.timers);
  }

  /** Timer wakes so far: one per release of waiting sends, however many leave on it. */
  get wakes(): number {
    return this.timer.wakes;
  }

  /** Takes a message slot in `chatId` now if every tier has one and no send waits before it; false (nothing taken) means await `message`. */
  tryMessage(chatId: number | string): boolean {
    if (this.globalQueue.length > 0) return false;
    const { group, chat } = this.tiersOf(chatId);
    if ((group?.waitMs() ?? 0) > 0 || chat.waitMs() > 0 || this.bucketWide.waitMs() > 0) return false;
    group?.tryTake();
    chat.tryTake();
    this.bucketWide.tryTake();
    return true;
  }

  /** Takes a bot-wide slot now if one is there and no send waits before it; false means await `global`. */
  tryGlobal(): boolean {
    return this.globalQueue.length === 0 && this.bucketWide.tryTake();
  }

  /** Waits for a message slot in `chatId`: group tier, chat tier, then the bot-wide budget. */
  message(chatId: number | string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted !== true && this.tryMessage(chatId)) return Promise.resolve();
    const { group, chat } = this.tiersOf(chatId);
    return this.wait(group, chat, signal);
  }

  /** The buckets a message to `chatId` passes before the bot-wide one: its group's (group chats only) and its chat's. */
  private tiersOf(chatId: number | string): { group: TokenBucket | undefined; chat: TokenBucket } {
    const key = String(chatId);
    const group = isGroupChat(chatId) ? this.bucket(this.groups, key, this.limits.perGroupPerMin / 60, this.limits.groupBurst) : undefined;
    return { group, chat: this.bucket(this.chats, key, this.limits.perChatPerSec, 1) };
  }

  /** Waits for a slot of the bot-wide budget only (chat actions, callback answers): one waiter at a time, first come first served. */
  global(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted !== true && this.tryGlobal()) return Promise.resolve();
    return this.wait(undefined, undefined, signal);
  }

  private wait(group: TokenBucket | undefined, chat: TokenBucket | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { group, chat, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => this.drop(waiter, signal.reason);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      const tierWait = this.tierWaitMs(waiter);
      if (tierWait > 0) {
        this.tierWaiting.push(waiter);
        // While a backlog waits for the bot-wide budget, its wake checks the tiers too.
        if (this.globalQueue.length === 0) this.timer.armIn(tierWait);
        return;
      }
      this.takeTiers(waiter);
      this.globalQueue.push(waiter);
      if (this.globalQueue.length > 1) return; // behind others: it leaves with them
      this.drainGlobal(); // first in the queue: it goes if a slot is there
      // Else the wake is planned once this tick's sends have queued, so a burst's overflow leaves together.
      if (this.globalQueue.length > 0) queueMicrotask(this.armQueue);
    });
  }

  /** The timer's wake: every send whose tiers have a slot joins the bot-wide queue, in arrival order; then the queue goes as far as bot-wide slots allow. */
  private release(): void {
    let nextTier = Number.POSITIVE_INFINITY;
    let kept = 0;
    for (const waiter of this.tierWaiting) {
      const wait = this.tierWaitMs(waiter);
      if (wait > 0) {
        this.tierWaiting[kept++] = waiter;
        nextTier = Math.min(nextTier, wait);
      } else {
        this.takeTiers(waiter);
        this.globalQueue.push(waiter);
      }
    }
    this.tierWaiting.length = kept;
    this.drainGlobal();
    if (this.globalQueue.length > 0) this.armQueue();
    else if (nextTier < Number.POSITIVE_INFINITY) this.timer.armIn(nextTier);
  }

  /** Lets the bot-wide queue go, first come first served, while there are slots. */
  private drainGlobal(): void {
    while (this.globalQueue.length > 0 && this.bucketWide.tryTake()) this.settle(this.globalQueue.shift() as Waiter);
  }

  /** While sends queue for the bot-wide budget, the next wake is when `batchSlots` slots (or as many as wait) have refilled, so they leave together. */
  private readonly armQueue = (): void => {
    if (this.globalQueue.length > 0) this.timer.armIn(this.bucketWide.waitMs(Math.min(this.globalQueue.length, this.batchSlots)));
  };

  private tierWaitMs(waiter: Waiter): number {
    return Math.max(waiter.group?.waitMs() ?? 0, waiter.chat?.waitMs() ?? 0);
  }

  private takeTiers(waiter: Waiter): void {
    waiter.group?.tryTake();
    waiter.chat?.tryTake();
  }

  private settle(waiter: Waiter): void {
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve();
  }

  /** An aborted waiter leaves without a slot (tier tokens it already took stay spent, as before); the ones behind it move up. */
  private drop(waiter: Waiter, reason: unknown): void {
    const queued = this.globalQueue.indexOf(waiter);
    if (queued >= 0) this.globalQueue.splice(queued, 1);
    else this.tierWaiting = this.tierWaiting.filter((w) => w !== waiter);
    waiter.reject(reason);
    if (this.globalQueue.length === 0 && this.tierWaiting.length === 0) this.timer.disarm();
    else if (queued === 0) this.release(); // the new head may go now, or sooner
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
