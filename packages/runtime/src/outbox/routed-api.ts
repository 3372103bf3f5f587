/**
 * Puts the outbox under a bot's `Api`, so nothing the bot sends can bypass it. `ctx.reply`,
 * `bot.api.sendMessage`, `sendPhoto`, a callback answer — every generated method of
 * node-telegram-bot-api v2's `Api` funnels into its one `request(method, params, signal)`,
 * which `RoutedApi` overrides. Routing there, rather than wrapping six methods, means a
 * method added to the library later is covered too; and rather than at `fetch`, means the outbox
 * sees structured params (chat id, text to split) instead of encoded bodies.
 *
 * The raw transport under it is built with `maxRetries: 0`: the library's own retries would
 * repeat a `sendMessage` whose answer was lost, which is exactly the duplicate the outbox's
 * policy forbids.
 */
import { Api, type Bot, type TransportOptions } from 'node-telegram-bot-api';
import { Outbox, type OutboxOptions, type Params } from './outbox.js';

export class RoutedApi extends Api {
  private route: ((method: string, params: Params | undefined, signal?: AbortSignal) => Promise<unknown>) | undefined;

  constructor(token: string, options: TransportOptions = {}) {
    super(token, { ...options, maxRetries: 0 });
  }

  /** From now on every call of this Api goes through `outbox`. */
  routeThrough(outbox: Outbox): void {
    this.route = (method, params, signal) => outbox.call(method, params, signal);
  }

  /** The raw call, bypassing the outbox: for the outbox itself. */
  direct<R>(method: string, params?: Params, signal?: AbortSignal): Promise<R> {
    return super.request<R>(method, params, signal);
  }

  protected override request<R>(method: string, params?: Params, signal?: AbortSignal): Promise<R> {
    if (this.route === undefined) return this.direct<R>(method, params, signal);
    return this.route(method, params, signal) as Promise<R>;
  }
}

/** An Api and the outbox it routes through. */
export function createOutboxApi(token: string, transport: TransportOptions, options: OutboxOptions = {}): { api: RoutedApi; outbox: Outbox } {
  const api = new RoutedApi(token, transport);
  const outbox = new Outbox((method, params, signal) => api.direct(method, params, signal), options);
  api.routeThrough(outbox);
  return { api, outbox };
}

/**
 * Makes `bot` use `api` for everything, including the `ctx.api` its handlers get. `Bot` builds
 * its own `Api` in its constructor and offers no way to pass one in; its `api` field is a plain
 * data property, so it is replaced here once, before any update is handled.
 */
export function installApi(bot: Bot, api: Api): void {
  Object.defineProperty(bot, 'api', { value: api, writable: false, enumerable: true, configurable: false });
}
