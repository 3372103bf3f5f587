/**
 * The bridge's routes into sessions (the runtime's SessionManager): a plain message goes to the
 * chat's default session, `/<name> text` to a named one, `/new [name]` ends the chat's session so
 * the next message starts fresh, `/sessions` lists them (admins see every chat's). `/stop` is the
 * bridge's own command; it asks `stopInChat` here for the sessions' part. Registered only when the
 * config has sessions; the manager runs as a bot service (stopped at shutdown, told after a crash).
 */
import { basename, dirname, join } from 'node:path';
import { sendIpc } from '@botvisor/core';
import type { BotRuntime } from '@botvisor/runtime';
import { SessionManager, type SessionsFile } from '@botvisor/runtime/sessions';
import type { Bot, Context } from 'node-telegram-bot-api';
import type { CommandTable } from './command-table.js';

export interface SessionRoutes {
  /** Ends the chat's sessions (or the named one) and every process of theirs; undefined when `arg` names no session. */
  stopInChat(chatId: number, arg: string): Promise<{ ended: string[]; dropped: number } | undefined>;
  /** For a plain (non-command) message: hands it to the default session. */
  plainMessage(ctx: Context): Promise<void>;
  readonly manager: SessionManager;
}

/** The bridge state's part that sessions keep (the budget ledger, live agents). */
export interface WithSessions {
  sessions: SessionsFile;
}

export function installSessionRoutes<S extends WithSessions>(bot: Bot, runtime: BotRuntime<S>, table: CommandTable, isAdmin: (id: number | undefined) => boolean): SessionRoutes | undefined {
  const { config } = runtime;
  const specs = config.sessions;
  if (Object.keys(specs).length === 0) return undefined;
  const state = runtime.state;
  const manager = new SessionManager({
    api: bot.api,
    specs,
    store: {
      read: () => state.data.sessions as SessionsFile,
      update: (fn) => state.update((d) => fn(d.sessions)),
      flush: () => state.flush(),
    },
    logger: runtime.logger,
    // The jobs' temp folder (data/bots/<name>/tmp): the job pool clears what a crash left there.
    spoolDir: join(dirname(state.file), 'tmp'),
    // Tracked by the supervisor like any job: listed as the bot's children, reaped if the bot dies.
    report: (message) => void sendIpc(process, message),
  });

  table.add({ name: 'new', description: "end this chat's session; your next message starts a new one", usage: '[session]', source: 'built-in', admin: false });
  table.add({ name: 'sessions', description: 'the sessions running here (admins: all)', usage: '', source: 'built-in', admin: false });
  for (const [name, spec] of Object.entries(specs)) {
    const program = basename(spec.argv[0] as string);
    const description = spec.description ?? `talk to ${program}${manager.defaultName === name ? ' (or just write)' : ''}`;
    table.add({ name, description, usage: '<message>', source: 'config', admin: false }, config.index);
  }

  const known = (name: string): boolean => name in specs;

  bot.command('new', async (ctx) => {
    if (ctx.chatId === undefined) return;
    const arg = String(ctx.match ?? '').trim();
    if (arg !== '' && !known(arg)) return ctx.reply(`There is no session "${arg}". Sessions: ${manager.names.join(', ')}.`);
    const r = await manager.end(ctx.chatId, 'new', arg === '' ? undefined : arg);
    await ctx.reply(r.ended.length === 0 ? 'No session is running in this chat; your next message starts one.' : `Ended ${r.ended.join(', ')}${r.dropped > 0 ? ` (${r.dropped} waiting dropped)` : ''}. Your next message starts a new one.`);
  });

  bot.command('sessions', async (ctx) => {
    if (ctx.chatId === undefined) return;
    const all = isAdmin(ctx.from?.id);
    const rows = manager.list(all ? undefined : ctx.chatId);
    if (rows.length === 0) return ctx.reply(all ? 'No sessions are running.' : 'No session is running in this chat.');
    const ago = (d: Date) => `${Math.max(0, Math.round((Date.now() - d.getTime()) / 60_000))} min`;
    const lines = rows.map((r) => `• ${r.name}${all ? ` (chat ${r.chatId})` : ''}: ${r.state}, ${r.turns} turn${r.turns === 1 ? '' : 's'}, ${r.pending} waiting or running, pid ${r.pid ?? '-'}, up ${ago(r.startedAt)}`);
    await ctx.reply(['Sessions:', ...lines].join('\n'));
  });

  for (const name of Object.keys(specs)) {
    bot.command(name, async (ctx) => {
      if (ctx.from === undefined || ctx.chatId === undefined) return;
      const text = String(ctx.match ?? '').trim();
      if (text === '') return ctx.reply(`Send /${name} followed by your message.`);
      await manager.send({ chatId: ctx.chatId, userId: ctx.from.id, name, text });
    });
  }

  runtime.addService({ name: 'sessions', start: () => manager.start(), stop: (g) => manager.stop(g), runningJobs: () => manager.runningCount });

  return {
    manager,
    stopInChat: async (chatId, arg) => {
      if (arg !== '' && arg !== 'all' && !known(arg)) return undefined;
      return manager.end(chatId, 'stop', arg === '' || arg === 'all' ? undefined : arg);
    },
    plainMessage: async (ctx) => {
      if (ctx.from === undefined || ctx.chatId === undefined) return;
      const text = ctx.message?.text;
      if (text === undefined || text.trim() === '') {
        await ctx.reply('Only text messages go to a session.');
        return;
      }
      await manager.send({ chatId: ctx.chatId, userId: ctx.from.id, text });
    },
  };
}
