/**
 * What sessions say in a chat: every sentence in one place, short and specific, with the figures
 * a person needs to act on it.
 */
import type { Budget } from './budget-ledger.js';
import type { SessionUsage } from './sessions-file.js';

/** `“first words…”`: names the message a refusal is about. */
export function quoted(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return `“${flat.length > 40 ? `${flat.slice(0, 40)}…` : flat}”`;
}

function usd(n: number): string {
  return `$${n.toFixed(n < 1 ? 4 : 2)}`;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const sessionText = {
  queueFull: (name: string, limit: number, text: string) => `Not sent to ${name}: ${quoted(text)} — ${plural(limit, 'message')} already wait for it (the limit). Wait for the replies, or /stop.`,
  overBudget: (name: string, text: string, used: SessionUsage, budget: Budget, hoursLeft: number) => {
    const parts: string[] = [];
    if (budget.dailyCostUsd !== undefined) parts.push(`${usd(used.costUsd)} of ${usd(budget.dailyCostUsd)}`);
    if (budget.dailyTokens !== undefined) parts.push(`${count(used.tokens)} of ${count(budget.dailyTokens)} tokens`);
    return `Not sent to ${name}: ${quoted(text)} — your daily budget is used up (${parts.join(', ')} today). It resets at 00:00 UTC, in ${plural(hoursLeft, 'hour')}.`;
  },
  tooMany: (name: string, limit: number, text: string) => `Not sent to ${name}: ${quoted(text)} — ${plural(limit, `${name} session`)} already run (the limit). Try again later, or ask the others to /new.`,
  stopping: (name: string, text: string) => `Not sent to ${name}: ${quoted(text)} — the bot is stopping. Send it again in a moment.`,
  noDefault: (names: string[]) =>
    names.length === 0 ? 'I only run commands here. Send /help for the list.' : `Which session? Start your message with ${names.map((n) => `/${n}`).join(' or ')}.`,
  unknownSession: (name: string, names: string[]) => `There is no session "${name}". Sessions: ${names.join(', ')}.`,
  stopNote: () => '⏹ Stopped.',
  idleEnded: (name: string, idleSec: number) => `💤 ${name} ended after ${idleSec} s without a message; your next message starts a new session.`,
  exited: (name: string, failure: string | undefined, dropped: number) =>
    `⚠️ ${name} ended: ${failure ?? 'the program exited'}.${dropped > 0 ? ` ${plural(dropped, 'waiting message was', 'waiting messages were')} not sent.` : ''} Your next message starts a new session.`,
  turnTimeout: (name: string, sec: number) => `⏱ ${name} did not finish its reply within ${sec} s; the session was stopped. Your next message starts a new one.`,
  restart: (name: string, pending: number) =>
    `🔄 ${name}: session ended by a restart${pending > 0 ? ` (${plural(pending, 'message was', 'messages were')} not answered)` : ''}; your next message starts a new one.`,
};
