/**
 * One Bot API call, `/bot<token>/<method>`, from request to envelope: token shape (401), method
 * lookup (404), pending-poller counting for getUpdates, parameters, injected faults, the method
 * itself, and the per-bot error counters. Method semantics live in methods/.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BodyLimits, ClientGone, readRequestParams } from './body.js';
import type { BotState } from './bot-state.js';
import { ApiError, notFound, okEnvelope, unauthorized } from './envelope.js';
import { faultError } from './faults.js';
import { writeForeignAnswer } from './foreign-answer.js';
import { decodePathSegment, internalError, writeEnvelope, writeError } from './http-io.js';
import { Described, findMethod } from './methods/index.js';
import { Params } from './params.js';
import type { Simulator } from './simulator.js';
import { isTokenShaped } from './token.js';

const BOT_PATH = /^\/bot([^/]*)(?:\/([^/]*))?\/?$/;

export function isBotApiPath(pathname: string): boolean {
  return pathname.startsWith('/bot');
}

export async function serveBotApi(sim: Simulator, req: IncomingMessage, res: ServerResponse, url: URL, limits: BodyLimits): Promise<void> {
  const match = BOT_PATH.exec(url.pathname);
  const token = decodePathSegment(match?.[1] ?? '');
  if (!isTokenShaped(token)) return writeError(res, unauthorized());
  const bot = sim.bot(token);
  bot.stats.request();
  const method = findMethod(match?.[2] ?? '');
  if (method === undefined) return answerError(sim, bot, match?.[2] ?? '', res, notFound());

  let signal = sim.closing;
  if (method.name === 'getUpdates') {
    // Pending from arrival until the answer is written (or the client is gone): see bot-stats.ts.
    bot.stats.pollerArrived();
    // A held poll ends when its connection closes unanswered: the client hung up, or the sim is
    // closing and dropped every connection. Aborting only then keeps the common path cheap.
    const hangup = new AbortController();
    res.once('close', () => {
      bot.stats.pollerAnswered();
      if (!res.writableFinished) hangup.abort();
    });
    signal = hangup.signal;
  }

  try {
    const { fields, files } = await readRequestParams(req, url.searchParams, limits);
    const fault = sim.faults.take(token, method.name);
    if (fault?.delayMs !== undefined) await sleep(fault.delayMs, undefined, { signal: sim.closing });
    if (fault?.drop === true) {
      req.socket.destroy();
      return;
    }
    if (fault?.fail !== undefined) throw faultError(fault.fail);
    if (fault?.foreign !== undefined) {
      if (fault.foreign.status >= 400) bot.stats.answeredError(fault.foreign.status);
      return writeForeignAnswer(res, fault.foreign, method.name);
    }
    const outcome = await method.handler({ sim, bot, params: new Params(fields, files), signal });
    writeEnvelope(res, outcome instanceof Described ? okEnvelope(outcome.result, outcome.description) : okEnvelope(outcome));
  } catch (error) {
    if (error instanceof ApiError) return answerError(sim, bot, method.name, res, error);
    if (error instanceof ClientGone || sim.closing.aborted) return; // nobody left to answer
    sim.logger?.error('bot-api-sim: method failed', { botId: bot.botId, method: method.name, error });
    answerError(sim, bot, method.name, res, internalError());
  }
}

function answerError(sim: Simulator, bot: BotState, method: string, res: ServerResponse, error: ApiError): void {
  bot.stats.answeredError(error.errorCode);
  sim.logger?.debug('bot-api-sim: answered an error', { botId: bot.botId, method, errorCode: error.errorCode, description: error.description });
  writeError(res, error);
}
