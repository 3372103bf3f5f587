/**
 * Which updates take the priority lane: control commands (default /stop, /status, /cancel) that
 * must never wait behind the running handler of their own chat.
 */
import type { Update } from 'node-telegram-bot-api';

export const DEFAULT_PRIORITY_COMMANDS = ['/stop', '/status', '/cancel'];

export function priorityMatcher(commands: readonly string[] = DEFAULT_PRIORITY_COMMANDS): (update: Update) => boolean {
  const names = new Set(commands.map((c) => (c.startsWith('/') ? c.slice(1) : c).toLowerCase()));
  return (update) => {
    const text = (update as { message?: { text?: unknown } }).message?.text;
    if (typeof text !== 'string' || !text.startsWith('/')) return false;
    const word = (text.slice(1).split(/\s/, 1)[0] ?? '').split('@', 1)[0]?.toLowerCase() ?? '';
    return names.has(word);
  };
}
