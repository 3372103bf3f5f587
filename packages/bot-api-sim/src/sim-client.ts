/**
 * A typed client for the control API (`/sim/…`), over HTTP with fetch, for tests, benchmarks and
 * the sandbox. Every method maps to one route in README.md; an error envelope becomes a
 * `SimClientError` carrying Telegram-style `errorCode` and `description`.
 */
import type { BotProfile } from './bot-state.js';
import type { BotStatsView, ChatView, HealthView, ProfilePatch, TranscriptView, UserMessagesView } from './control-types.js';
import type { Envelope, ResponseParameters } from './envelope.js';
import type { Fault, FaultSpec } from './faults.js';
import type { EffectiveFloodSettings, FloodMode, FloodSettings } from './flood-control.js';
import type { Update } from './telegram-types.js';
import type { TranscriptEntry } from './transcript.js';
import type { CallbackTapInput, InjectResult, UserCommandInput, UserMessageInput } from './user-side.js';

export class SimClientError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(`${errorCode} ${description}`);
    this.name = 'SimClientError';
  }
}

export interface MessageWait {
  /** The message text must be exactly this. */
  text?: string;
  /** The message text must match this. */
  pattern?: RegExp | string;
  /** Only messages after this transcript cursor (e.g. the `cursor` an inject returned); default 0. */
  after?: number;
  /** Default 10000. */
  timeoutMs?: number;
  /** Gives up early: the request is aborted (the promise rejects with the fetch's AbortError) and the sim stops waiting. */
  signal?: AbortSignal;
}

export interface SimClientOptions {
  /** Injected fetch; default the global one. */
  fetch?: typeof fetch;
}

export class SimClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(baseUrl: string, options: SimClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /** The same client with `token` filled in. */
  bot(token: string): SimBotClient {
    return new SimBotClient(this, token);
  }

  health(): Promise<HealthView> {
    return this.call('GET', '/sim/health');
  }

  sendMessage(token: string, input: UserMessageInput): Promise<InjectResult> {
    return this.call('POST', `${botPath(token)}/messages`, input);
  }

  sendCommand(token: string, input: UserCommandInput): Promise<InjectResult> {
    return this.call('POST', `${botPath(token)}/commands`, input);
  }

  tapButton(token: string, input: CallbackTapInput): Promise<InjectResult> {
    return this.call('POST', `${botPath(token)}/callbacks`, input);
  }

  transcript(token: string, chatId: number, after = 0): Promise<TranscriptView> {
    return this.call('GET', `${botPath(token)}/chats/${chatId}/transcript?after=${after}`);
  }

  /** What the user wrote in the chat (through any client), after cursor `after`. */
  userMessages(token: string, chatId: number, after = 0): Promise<UserMessagesView> {
    return this.call('GET', `${botPath(token)}/chats/${chatId}/user-messages?after=${after}`);
  }

  /** The first bot message (sent, edited or document) after `after` that matches; rejects with a 408 SimClientError on timeout. */
  waitForMessage(token: string, chatId: number, wait: MessageWait = {}): Promise<TranscriptEntry> {
    const body: Record<string, unknown> = { after: wait.after ?? 0 };
    if (wait.text !== undefined) body.text = wait.text;
    if (wait.pattern instanceof RegExp) {
      body.pattern = wait.pattern.source;
      body.flags = wait.pattern.flags.replace(/[gy]/g, '');
    } else if (wait.pattern !== undefined) body.pattern = wait.pattern;
    if (wait.timeoutMs !== undefined) body.timeoutMs = wait.timeoutMs;
    return this.call('POST', `${botPath(token)}/chats/${chatId}/wait`, body, wait.signal);
  }

  chats(token: string): Promise<ChatView[]> {
    return this.call('GET', `${botPath(token)}/chats`);
  }

  /** Updates queued for the bot and not yet confirmed. */
  pendingUpdates(token: string): Promise<Update[]> {
    return this.call('GET', `${botPath(token)}/updates`);
  }

  stats(token: string): Promise<BotStatsView> {
    return this.call('GET', `${botPath(token)}/stats`);
  }

  async allStats(): Promise<BotStatsView[]> {
    return (await this.call<{ bots: BotStatsView[] }>('GET', '/sim/stats')).bots;
  }

  resetStats(token: string): Promise<BotStatsView> {
    return this.call('POST', `${botPath(token)}/stats/reset`);
  }

  async resetBot(token: string): Promise<void> {
    await this.call('POST', `${botPath(token)}/reset`);
  }

  async reset(): Promise<void> {
    await this.call('POST', '/sim/reset');
  }

  profile(token: string): Promise<BotProfile> {
    return this.call('GET', `${botPath(token)}/profile`);
  }

  setProfile(token: string, patch: ProfilePatch): Promise<BotProfile> {
    return this.call('POST', `${botPath(token)}/profile`, patch);
  }

  flood(): Promise<EffectiveFloodSettings> {
    return this.call('GET', '/sim/flood');
  }

  setFlood(settings: FloodMode | FloodSettings): Promise<EffectiveFloodSettings> {
    return this.call('PUT', '/sim/flood', typeof settings === 'string' ? { mode: settings } : settings);
  }

  addFault(spec: FaultSpec): Promise<Fault> {
    return this.call('POST', '/sim/faults', spec);
  }

  faults(): Promise<Fault[]> {
    return this.call('GET', '/sim/faults');
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/sim/faults');
  }

  private async call<T>(verb: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const init: RequestInit = { method: verb };
    if (signal !== undefined) init.signal = signal;
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await this.fetchImpl(`${this.baseUrl}${path}`, init);
    const envelope = (await response.json()) as Envelope<T>;
    if (!envelope.ok) throw new SimClientError(envelope.error_code, envelope.description, envelope.parameters);
    return envelope.result;
  }
}

/** `SimClient` bound to one bot. */
export class SimBotClient {
  constructor(
    readonly client: SimClient,
    readonly token: string,
  ) {}

  sendMessage(input: UserMessageInput): Promise<InjectResult> {
    return this.client.sendMessage(this.token, input);
  }

  sendCommand(input: UserCommandInput): Promise<InjectResult> {
    return this.client.sendCommand(this.token, input);
  }

  tapButton(input: CallbackTapInput): Promise<InjectResult> {
    return this.client.tapButton(this.token, input);
  }

  transcript(chatId: number, after = 0): Promise<TranscriptView> {
    return this.client.transcript(this.token, chatId, after);
  }

  userMessages(chatId: number, after = 0): Promise<UserMessagesView> {
    return this.client.userMessages(this.token, chatId, after);
  }

  waitForMessage(chatId: number, wait: MessageWait = {}): Promise<TranscriptEntry> {
    return this.client.waitForMessage(this.token, chatId, wait);
  }

  chats(): Promise<ChatView[]> {
    return this.client.chats(this.token);
  }

  pendingUpdates(): Promise<Update[]> {
    return this.client.pendingUpdates(this.token);
  }

  stats(): Promise<BotStatsView> {
    return this.client.stats(this.token);
  }

  resetStats(): Promise<BotStatsView> {
    return this.client.resetStats(this.token);
  }

  reset(): Promise<void> {
    return this.client.resetBot(this.token);
  }

  profile(): Promise<BotProfile> {
    return this.client.profile(this.token);
  }

  setProfile(patch: ProfilePatch): Promise<BotProfile> {
    return this.client.setProfile(this.token, patch);
  }
}

function botPath(token: string): string {
  return `/sim/bots/${encodeURIComponent(token)}`;
}
