/**
 * What the bridge says: every user-facing sentence in one place, short and specific.
 */
import type { FleetSummary } from '@botvisor/runtime';
import type { CommandEntry } from './command-table.js';

function ago(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

export const bridgeText = {
  start: (name: string) => `Hi ${name}! I run a few command-line tools for you. Send /help to see them.`,
  help: (entries: CommandEntry[], isAdmin: boolean) => {
    const visible = entries.filter((e) => isAdmin || !e.admin);
    const line = (e: CommandEntry) => `/${e.name}${e.usage !== '' ? ` ${e.usage}` : ''} — ${e.description}${e.admin ? ' (admins)' : ''}`;
    const tools = visible.filter((e) => e.source === 'config');
    const builtins = visible.filter((e) => e.source === 'built-in');
    return [tools.length > 0 ? 'Tools:' : 'No tools are configured.', ...tools.map(line), '', 'Also:', ...builtins.map(line)].join('\n');
  },
  status: (bot: { name: string; polling: boolean; running: number; queued: number; uptimeMs: number }, fleet: FleetSummary | undefined) => {
    const head = `${bot.name}: ${bot.polling ? 'polling' : 'send-only'}, up ${ago(bot.uptimeMs)}, jobs: ${bot.running} running, ${bot.queued} queued`;
    if (fleet === undefined) return `${head}\n(no supervisor: started by hand)`;
    const lines = fleet.bots.map((b) => `• ${b.name}: ${b.state}${b.state === 'ready' ? ` ${ago(b.uptimeMs)}` : ''}, restarts ${b.restarts}`);
    return [head, `Fleet (supervisor pid ${fleet.supervisor.pid}, up ${ago(fleet.supervisor.uptimeMs)}):`, ...lines].join('\n');
  },
  whoami: (u: { id: number; name: string; username?: string | undefined }, admin: boolean, allowed: boolean) =>
    `You are ${u.name}${u.username !== undefined ? ` (@${u.username})` : ''}, id ${u.id}. Admin: ${admin ? 'yes' : 'no'}. Allowed: ${allowed ? 'yes' : 'no'}.`,
  noJobs: () => 'You have no jobs yet.',
  jobsHeader: () => 'Your latest jobs:',
  stopped: (n: number, dropped: number) => (n + dropped === 0 ? 'Nothing to stop: no job of yours is running.' : `Stopping ${n} running job${n === 1 ? '' : 's'}${dropped > 0 ? ` and dropped ${dropped} queued` : ''}.`),
  notRunning: (id: string) => `Job #${id} is not a running job of yours. /jobs lists them.`,
  restartRefused: () => 'Only an admin may restart me.',
  restarting: () => 'Restarting…',
  backAfter: (seconds: number) => `Back after ${seconds} s.`,
  sessionsStopped: (names: string[], dropped: number) =>
    names.length === 0
      ? 'No session is running in this chat.'
      : `Stopped ${names.join(', ')} and every process it started${dropped > 0 ? ` (${dropped} waiting message${dropped === 1 ? '' : 's'} dropped)` : ''}. Your next message starts a new session.`,
  unknown: (cmd: string) => `I don't know /${cmd}. Send /help for the list.`,
  unknownButton: () => 'This button no longer does anything.',
  plainTextHint: () => 'I run commands, not conversations: send /help to see them.',
};
