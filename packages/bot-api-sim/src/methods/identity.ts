/**
 * Who the bot is and what it knows about a chat: getMe and getChat.
 */
import type { BotUser, Chat } from '../telegram-types.js';
import type { MethodContext, MethodGroup } from './method.js';

function getMe(context: MethodContext): BotUser {
  return context.bot.me();
}

/** A ChatFullInfo with the fields the sim knows, for chats the bot has met. */
function getChat(context: MethodContext): Chat & { accent_color_id: number; max_reaction_count: number } {
  const record = context.bot.chats.require(context.params.chatId());
  return { ...record.chat, accent_color_id: 0, max_reaction_count: 11 };
}

export const identityMethods: MethodGroup = { getMe, getChat };
