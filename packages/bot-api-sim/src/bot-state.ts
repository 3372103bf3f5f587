/**
 * Everything the sim keeps for one token: the bot's profile, its update queue and long-poll slot,
 * its webhook, the chats it knows, its commands, callback queries and files, and its stats. Bots
 * are independent of each other, as two tokens are on Telegram.
 */
import { BotStats } from './bot-stats.js';
import { ChatBook } from './chats.js';
import { PollerSlot } from './long-poll.js';
import type { BotCommand, BotUser, Document } from './telegram-types.js';
import { UpdateQueue } from './update-queue.js';

export interface WebhookState {
  url: string;
  maxConnections: number;
  allowedUpdates?: string[];
  ipAddress?: string;
  hasSecretToken: boolean;
}

export interface BotProfile {
  username: string;
  first_name: string;
  /** Telegram's default: in groups the bot only sees commands, replies to it and mentions of it. */
  privacyMode: boolean;
}

export interface CallbackQueryRecord {
  chatId: number;
  messageId: number;
  answered: boolean;
}

export class BotState {
  readonly updates: UpdateQueue;
  readonly poller: PollerSlot;
  readonly chats = new ChatBook();
  readonly stats = new BotStats();
  profile: BotProfile;
  webhook: WebhookState | undefined;
  /** Keyed by scope and language, see methods/commands.ts. */
  readonly commands = new Map<string, BotCommand[]>();
  readonly callbackQueries = new Map<string, CallbackQueryRecord>();
  /** Files this bot has sent, by file_id, so it can send them again by id. */
  readonly files = new Map<string, Document>();

  constructor(
    readonly token: string,
    readonly botId: number,
    firstUpdateId = 1,
  ) {
    this.updates = new UpdateQueue(firstUpdateId);
    this.poller = new PollerSlot(this.updates);
    this.profile = BotState.defaultProfile(botId);
  }

  static defaultProfile(botId: number): BotProfile {
    return { username: `sim_${botId}_bot`, first_name: `Sim Bot ${botId}`, privacyMode: true };
  }

  /** The bot as getMe and message `from` fields show it. */
  me(): BotUser {
    return {
      id: this.botId,
      is_bot: true,
      first_name: this.profile.first_name,
      username: this.profile.username,
      can_join_groups: true,
      can_read_all_group_messages: !this.profile.privacyMode,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
  }

  /** Back to a fresh bot. Update ids keep counting; a held poll and the pending-poller count stay. */
  reset(): void {
    this.updates.reset();
    this.chats.clear();
    this.stats.reset();
    this.profile = BotState.defaultProfile(this.botId);
    this.webhook = undefined;
    this.commands.clear();
    this.callbackQueries.clear();
    this.files.clear();
  }
}
