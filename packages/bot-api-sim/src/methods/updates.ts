/**
 * Receiving updates: getUpdates (long polling with offset, limit, timeout and allowed_updates)
 * and the webhook methods that exclude it. The sim stores a webhook but does not deliver to it:
 * while one is set, updates wait in the queue and getUpdates answers 409, as on Telegram.
 */
import { badRequest, conflictSetWebhook, conflictWebhookActive } from '../envelope.js';
import type { Params } from '../params.js';
import type { Update } from '../telegram-types.js';
import type { UpdateQueue } from '../update-queue.js';
import { Described, type MethodContext, type MethodGroup } from './method.js';

function applyAllowedUpdates(params: Params, queue: UpdateQueue): string[] | undefined {
  const allowed = params.json('allowed_updates', "can't parse allowed updates JSON object");
  if (allowed === undefined) return undefined;
  if (!Array.isArray(allowed) || !allowed.every((kind) => typeof kind === 'string')) throw badRequest("can't parse allowed updates JSON object");
  const kinds = allowed as string[];
  queue.setAllowedUpdates(kinds);
  return kinds;
}

async function getUpdates(context: MethodContext): Promise<Update[]> {
  const { bot, params } = context;
  if (bot.webhook !== undefined) throw conflictWebhookActive();
  const offset = params.integer('offset') ?? 0;
  const limit = Math.min(100, Math.max(1, params.integer('limit') ?? 100));
  const timeoutSeconds = Math.max(0, params.integer('timeout') ?? 0);
  applyAllowedUpdates(params, bot.updates);
  const updates = await bot.poller.poll({ offset, limit, timeoutSeconds, signal: context.signal });
  bot.stats.delivered(updates.length);
  return updates;
}

function setWebhook(context: MethodContext): Described {
  const { bot, params } = context;
  const url = params.string('url') ?? '';
  if (params.boolean('drop_pending_updates') === true) bot.updates.dropAll();
  if (url === '') return deleteWebhookState(context);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest('bad webhook: Failed to resolve host: Name or service not known');
  }
  if (parsed.protocol !== 'https:') throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
  if (!['', '443', '80', '88', '8443'].includes(parsed.port)) throw badRequest('bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443');
  const maxConnections = params.integer('max_connections') ?? 40;
  if (maxConnections < 1 || maxConnections > 100) throw badRequest('bad webhook: max_connections must be between 1 and 100');
  const allowedUpdates = applyAllowedUpdates(params, bot.updates);
  const alreadySet = bot.webhook?.url === url;
  bot.webhook = { url, maxConnections, hasSecretToken: params.has('secret_token') };
  if (allowedUpdates !== undefined) bot.webhook.allowedUpdates = allowedUpdates;
  const ipAddress = params.string('ip_address');
  if (ipAddress !== undefined) bot.webhook.ipAddress = ipAddress;
  bot.poller.terminate(conflictSetWebhook());
  context.sim.logger?.info('bot-api-sim: webhook set', { botId: bot.botId });
  return new Described(true, alreadySet ? 'Webhook is already set' : 'Webhook was set');
}

function deleteWebhookState(context: MethodContext): Described {
  const { bot } = context;
  const wasSet = bot.webhook !== undefined;
  bot.webhook = undefined;
  return new Described(true, wasSet ? 'Webhook was deleted' : 'Webhook is already deleted');
}

function deleteWebhook(context: MethodContext): Described {
  if (context.params.boolean('drop_pending_updates') === true) context.bot.updates.dropAll();
  return deleteWebhookState(context);
}

function getWebhookInfo(context: MethodContext): Record<string, unknown> {
  const { bot } = context;
  const info: Record<string, unknown> = { url: bot.webhook?.url ?? '', has_custom_certificate: false, pending_update_count: bot.updates.pendingCount };
  if (bot.webhook !== undefined) {
    info.max_connections = bot.webhook.maxConnections;
    if (bot.webhook.ipAddress !== undefined) info.ip_address = bot.webhook.ipAddress;
    if (bot.webhook.allowedUpdates !== undefined) info.allowed_updates = bot.webhook.allowedUpdates;
  }
  return info;
}

export const updateMethods: MethodGroup = { getUpdates, setWebhook, deleteWebhook, getWebhookInfo };
