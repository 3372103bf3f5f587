/**
 * The bot's command menu: setMyCommands, getMyCommands, deleteMyCommands, stored per scope and
 * language as on Telegram (getMyCommands answers for exactly the scope and language asked).
 */
import { badRequest } from '../envelope.js';
import type { Params } from '../params.js';
import type { BotCommand } from '../telegram-types.js';
import type { MethodContext, MethodGroup } from './method.js';

const MAX_COMMANDS = 100;

function scopeKey(params: Params): string {
  const scope = params.json('scope', "can't parse BotCommandScope JSON object") ?? { type: 'default' };
  if (scope === null || typeof scope !== 'object' || Array.isArray(scope) || typeof scope.type !== 'string') {
    throw badRequest("can't parse BotCommandScope JSON object");
  }
  const { type, chat_id, user_id } = scope;
  return `${JSON.stringify([type, chat_id ?? null, user_id ?? null])}|${params.string('language_code') ?? ''}`;
}

function readCommands(params: Params): BotCommand[] {
  const commands = params.json('commands', "can't parse commands JSON object");
  if (!Array.isArray(commands)) throw badRequest("can't parse commands JSON object");
  if (commands.length > MAX_COMMANDS) throw badRequest('BOT_COMMANDS_TOO_MUCH');
  return commands.map((entry) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw badRequest("can't parse BotCommand JSON object");
    const command = typeof entry.command === 'string' ? entry.command.replace(/^\//, '') : '';
    const description = typeof entry.description === 'string' ? entry.description.trim() : '';
    if (!/^[a-z0-9_]{1,32}$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
    if (description.length < 1 || description.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
    return { command, description };
  });
}

function setMyCommands(context: MethodContext): true {
  const key = scopeKey(context.params);
  const commands = readCommands(context.params);
  if (commands.length === 0) context.bot.commands.delete(key);
  else context.bot.commands.set(key, commands);
  return true;
}

function getMyCommands(context: MethodContext): BotCommand[] {
  return context.bot.commands.get(scopeKey(context.params)) ?? [];
}

function deleteMyCommands(context: MethodContext): true {
  context.bot.commands.delete(scopeKey(context.params));
  return true;
}

export const commandMethods: MethodGroup = { setMyCommands, getMyCommands, deleteMyCommands };
