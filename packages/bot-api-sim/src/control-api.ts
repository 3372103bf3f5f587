/**
 * The control API under `/sim/`: the user side (messages, commands, button taps), transcripts and
 * the wait helper, stats, reset, flood settings, faults and bot profiles, as JSON in Telegram's
 * envelope. It drives the same `Simulator` the Bot API serves; README.md documents every route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BodyLimits, ClientGone, readRequestParams } from './body.js';
import type { BotState } from './bot-state.js';
import type { BotStatsView, ChatView, HealthView, TranscriptView, UserMessagesView } from './control-types.js';
import { ApiError, badRequest, notFound, okEnvelope, unauthorized } from './envelope.js';
import type { FaultSpec } from './faults.js';
import { type FloodSettings, isFloodMode } from './flood-control.js';
import { decodePathSegment, internalError, writeEnvelope, writeError } from './http-io.js';
import { implementedMethods } from './methods/index.js';
import type { Simulator } from './simulator.js';
import { isTokenShaped } from './token.js';
import type { MessageMatcher, Transcript } from './transcript.js';
import type { CallbackTapInput, UserCommandInput, UserMessageInput, UserSide } from './user-side.js';

const DEFAULT_WAIT_MS = 10_000;
const MAX_WAIT_MS = 10 * 60_000;

interface Call {
  verb: string;
  fields: Record<string, unknown>;
  /** Aborted when the connection closes unanswered: the client hung up or the sim is closing. */
  signal: AbortSignal;
}

const methodNotAllowed = (): ApiError => new ApiError(405, 'Method Not Allowed');

export function isControlPath(pathname: string): boolean {
  return pathname.startsWith('/sim/');
}

export async function serveControlApi(sim: Simulator, users: UserSide, req: IncomingMessage, res: ServerResponse, url: URL, limits: BodyLimits): Promise<void> {
  // Closing the sim drops every connection, so an unanswered close covers both hang-up and shutdown.
  const hangup = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) hangup.abort();
  });
  try {
    const { fields } = await readRequestParams(req, url.searchParams, limits);
    const segments = url.pathname.slice('/sim/'.length).split('/').filter((s) => s !== '').map(decodePathSegment);
    const call: Call = { verb: req.method ?? 'GET', fields, signal: hangup.signal };
    const result = await route(sim, users, segments, call);
    writeEnvelope(res, okEnvelope(result));
  } catch (error) {
    if (error instanceof ApiError) return writeError(res, error);
    if (error instanceof ClientGone || sim.closing.aborted) return;
    sim.logger?.error('bot-api-sim: control API failed', { path: url.pathname, error });
    writeError(res, internalError());
  }
}

function route(sim: Simulator, users: UserSide, segments: string[], call: Call): unknown {
  const [head, token, ...rest] = segments;
  const only = (verbs: string[]): void => {
    if (!verbs.includes(call.verb)) throw methodNotAllowed();
  };
  switch (head) {
    case 'health':
      only(['GET']);
      return { name: 'bot-api-sim', methods: implementedMethods() } satisfies HealthView;
    case 'stats':
      only(['GET']);
      return { bots: sim.allBots().map(statsView) };
    case 'reset':
      only(['POST']);
      sim.reset();
      return true;
    case 'flood':
      return flood(sim, call);
    case 'faults':
      return faults(sim, call);
    case 'bots':
      if (token === undefined || !isTokenShaped(token)) throw unauthorized();
      return botRoute(sim, users, sim.bot(token), rest, call, only);
    default:
      throw notFound();
  }
}

function botRoute(sim: Simulator, users: UserSide, bot: BotState, rest: string[], call: Call, only: (verbs: string[]) => void): unknown {
  const path = rest.join('/');
  switch (path) {
    case 'messages':
      only(['POST']);
      return users.sendMessage(bot.token, call.fields as unknown as UserMessageInput);
    case 'commands':
      only(['POST']);
      return users.sendCommand(bot.token, call.fields as unknown as UserCommandInput);
    case 'callbacks':
      only(['POST']);
      return users.tapButton(bot.token, call.fields as unknown as CallbackTapInput);
    case 'stats':
      only(['GET']);
      return statsView(bot);
    case 'stats/reset':
      only(['POST']);
      bot.stats.reset();
      return statsView(bot);
    case 'reset':
      only(['POST']);
      bot.reset();
      return true;
    case 'profile':
      return profile(bot, call);
    case 'updates':
      only(['GET']);
      return bot.updates.peek(Number.POSITIVE_INFINITY);
    case 'chats':
      only(['GET']);
      return bot.chats.list().map((record): ChatView => ({ chat: record.chat, cursor: record.transcript.cursor }));
  }
  const [chats, chatId, action] = rest;
  if (chats === 'chats' && chatId !== undefined && rest.length === 3) {
    const record = bot.chats.require(integerField({ chatId }, 'chatId') ?? Number.NaN);
    if (action === 'transcript') {
      only(['GET']);
      const after = integerField(call.fields, 'after') ?? 0;
      return { entries: record.transcript.read(after), cursor: record.transcript.cursor } satisfies TranscriptView;
    }
    if (action === 'user-messages') {
      only(['GET']);
      const after = integerField(call.fields, 'after') ?? 0;
      return { messages: record.userLog.read(after), cursor: record.userLog.cursor } satisfies UserMessagesView;
    }
    if (action === 'wait') {
      only(['GET', 'POST']);
      return waitForMessage(sim, record.transcript, call);
    }
  }
  throw notFound();
}

async function waitForMessage(sim: Simulator, transcript: Transcript, call: Call): Promise<unknown> {
  const after = integerField(call.fields, 'after') ?? 0;
  const timeoutMs = Math.min(MAX_WAIT_MS, Math.max(0, integerField(call.fields, 'timeoutMs') ?? DEFAULT_WAIT_MS));
  const matcher: MessageMatcher = {};
  const text = call.fields.text;
  if (text !== undefined) matcher.text = String(text);
  if (call.fields.pattern !== undefined) {
    try {
      matcher.pattern = new RegExp(String(call.fields.pattern), call.fields.flags === undefined ? '' : String(call.fields.flags));
    } catch {
      throw badRequest('pattern is not a valid regular expression');
    }
  }
  const entry = await transcript.waitForMessage(matcher, after, timeoutMs, call.signal);
  if (entry !== undefined) return entry;
  if (sim.closing.aborted) throw new ApiError(503, 'Service Unavailable: the simulator is closing');
  const what = matcher.pattern !== undefined ? ` matching ${matcher.pattern}` : matcher.text !== undefined ? ` with text ${JSON.stringify(matcher.text)}` : '';
  throw new ApiError(408, `Request Timeout: no bot message${what} after cursor ${after} within ${timeoutMs} ms`);
}

function statsView(bot: BotState): BotStatsView {
  const webhook = bot.webhook === undefined ? null : { url: bot.webhook.url, maxConnections: bot.webhook.maxConnections, ...(bot.webhook.allowedUpdates === undefined ? {} : { allowedUpdates: bot.webhook.allowedUpdates }) };
  return { botId: bot.botId, username: bot.profile.username, ...bot.stats.snapshot(), pendingUpdates: bot.updates.pendingCount, webhook };
}

function profile(bot: BotState, call: Call): unknown {
  if (call.verb === 'GET') return bot.profile;
  if (call.verb !== 'POST' && call.verb !== 'PATCH') throw methodNotAllowed();
  const { username, first_name: firstName, privacyMode } = call.fields;
  if (username !== undefined && !(typeof username === 'string' && /^[A-Za-z0-9_]{3,32}$/.test(username))) throw badRequest('username must be 3-32 letters, digits or underscores');
  if (firstName !== undefined && !(typeof firstName === 'string' && firstName !== '')) throw badRequest('first_name must be a non-empty string');
  const privacy = privacyMode === undefined ? undefined : privacyMode === true || privacyMode === 'true' ? true : privacyMode === false || privacyMode === 'false' ? false : null;
  if (privacy === null) throw badRequest('privacyMode must be a boolean');
  bot.profile = {
    username: (username as string | undefined) ?? bot.profile.username,
    first_name: (firstName as string | undefined) ?? bot.profile.first_name,
    privacyMode: privacy ?? bot.profile.privacyMode,
  };
  return bot.profile;
}

function flood(sim: Simulator, call: Call): unknown {
  if (call.verb === 'GET') return sim.flood.settings();
  if (call.verb !== 'PUT' && call.verb !== 'POST') throw methodNotAllowed();
  const { mode, limits } = call.fields;
  if (!isFloodMode(mode)) throw badRequest('mode must be off, telegram or strict');
  if (limits !== undefined && (limits === null || typeof limits !== 'object' || Array.isArray(limits))) throw badRequest('limits must be an object');
  try {
    return sim.flood.configure({ mode, limits: limits as FloodSettings['limits'] });
  } catch (error) {
    throw badRequest(error instanceof Error ? error.message : String(error));
  }
}

function faults(sim: Simulator, call: Call): unknown {
  switch (call.verb) {
    case 'GET':
      return sim.faults.list();
    case 'POST':
      return sim.faults.add(call.fields as unknown as FaultSpec);
    case 'DELETE':
      sim.faults.clear();
      return true;
    default:
      throw methodNotAllowed();
  }
}

function integerField(fields: Record<string, unknown>, name: string): number | undefined {
  const value = fields[name];
  if (value === undefined || value === '') return undefined;
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(number)) throw badRequest(`${name} must be an integer`);
  return number;
}
