/**
 * Shared test fixtures: well-formed tokens, a raw HTTP call that returns status and envelope, and
 * a node-telegram-bot-api `Api` pointed at the sim with retries off unless a test wants them.
 */
import { Api, type TransportOptions, type Update } from 'node-telegram-bot-api';
import type { Envelope } from '../src/index.js';

/** A token of Telegram's shape for bot `botId` (35-character secret). */
export function tokenFor(botId: number): string {
  return `${botId}:${`simTestSecret_${botId}_`.padEnd(35, 'x')}`;
}

export interface RawAnswer {
  status: number;
  body: Envelope;
}

/** One HTTP call with no client library in between. */
export async function rawCall(url: string, init: RequestInit = {}): Promise<RawAnswer> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Envelope };
}

export function jsonPost(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

/** node-telegram-bot-api's Api against the sim; no retries unless asked, so errors surface as they come. */
export function apiFor(apiRoot: string, token: string, options: TransportOptions = {}): Api {
  return new Api(token, { apiRoot, maxRetries: 0, ...options });
}

/** Api with a way to call any method name, for unknown-method tests. */
export class RawApi extends Api {
  call<R>(method: string, params?: Record<string, unknown>): Promise<R> {
    return this.request<R>(method, params);
  }
}

/** The private chat id of the sim's default user. */
export const DEFAULT_CHAT = 100001;

/** The text of an update's message, if it has one. */
export function textOf(update: Update): string | undefined {
  return 'message' in update ? update.message.text : undefined;
}
