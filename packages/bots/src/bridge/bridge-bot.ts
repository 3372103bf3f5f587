/**
 * The bridge bot (`kind: "bridge"`): CLI tools from a chat. Each of the config's `commands`
 * becomes a Telegram command that runs a job through the runtime's job pool (argv only, patterns,
 * live edited output, Retry after a crash); built-ins cover the rest: /start, /help, /status,
 * /jobs, /stop [job|session|all], /restart (admins), /whoami. The config's `sessions` add
 * conversations with long-lived CLI agents (session-routes.ts). Written only with the runtime's public API.
 */
import { type Decoration, decorateInBackground, defineBot } from '@botvisor/runtime';
import { emptySessionsFile, sessionsFileSchema } from '@botvisor/runtime/sessions';
import type { Context } from 'node-telegram-bot-api';
import * as z from 'zod'; // a namespace import, so a bundle keeps only the parts used (not zod's 64 locales)
import { ButtonRegistry } from './button-registry.js';
import { CommandTable } from './command-table.js';
import { PlainTextHint } from './plain-text-hint.js';
import { installSessionRoutes } from './session-routes.js';
import { bridgeText } from './texts.js';

const stateSchema = z.object({
  /** Set by /restart, read after the restart: who to tell "back after N s". */
  restartNotice: z.object({ chatId: z.number().int(), requestedAt: z.number() }).nullable(),
  /** Sessions' budget ledger and live agents (see session-routes.ts). */
  sessions: sessionsFileSchema.default(emptySessionsFile()),
});
type BridgeState = z.infer<typeof stateSchema>;

const BUILT_INS: Array<{ name: string; description: string; usage?: string; admin?: boolean }> = [
  { name: 'start', description: 'say hello' },
  { name: 'help', description: 'this list' },
  { name: 'status', description: 'this bot and the fleet' },
  { name: 'jobs', description: 'your latest jobs' },
  { name: 'stop', description: "stop your running job and this chat's session (all: also your queued jobs)", usage: '[job|session|all]' },
  { name: 'restart', description: 'restart this bot', admin: true },
  { name: 'whoami', description: 'your id and rights' },
];

const STOP_BUTTON = /^bridge:stop:(\d+)$/;

function userOf(ctx: Context): { id: number; name: string; username?: string } | undefined {
  const from = ctx.from;
  if (from === undefined) return undefined;
  return { id: from.id, name: [from.first_name, from.last_name].filter(Boolean).join(' '), ...(from.username !== undefined ? { username: from.username } : {}) };
}

export default defineBot<BridgeState>(
  (bot, runtime) => {
    const { config } = runtime;
    const admins = new Set(config.admins);
    const isAdmin = (id: number | undefined) => id !== undefined && admins.has(id);
    const isAllowed = (id: number) => config.allow === undefined || config.allow.includes(id);

    const table = new CommandTable(config.name);
    for (const b of BUILT_INS) table.add({ name: b.name, description: b.description, usage: b.usage ?? '', source: 'built-in', admin: b.admin === true });
    for (const [name, spec] of Object.entries(config.commands)) {
      const usage = Object.keys(spec.args).map((a) => `<${a}>`).join(' ');
      table.add({ name, description: spec.description ?? `runs ${spec.argv[0]}`, usage, source: 'config', admin: spec.admin }, config.index);
    }

    // Before the catch-all for unknown commands below: /new, /sessions and one command per session.
    const sessions = installSessionRoutes(bot, runtime, table, isAdmin);

    const buttons = new ButtonRegistry();
    buttons.declare({ name: 'stop a running job (/jobs)', example: 'bridge:stop:1' });
    const stopButton = buttons.handles(STOP_BUTTON);

    bot.command('start', (ctx) => ctx.reply(bridgeText.start(userOf(ctx)?.name ?? 'there')));

    bot.command('help', (ctx) => {
      const entries = table.list().map((e) => {
        const spec = config.commands[e.name];
        if (spec === undefined) return e;
        const example = spec.example !== undefined ? `, e.g. /${e.name} ${spec.example}` : '';
        if (spec.takes !== undefined) return { ...e, usage: `${e.usage} (${spec.takes}${example})` };
        const patterns = Object.entries(spec.args).map(([a, p]) => `${a}: ${p}`).join(', ');
        return patterns === '' ? e : { ...e, usage: `${e.usage} (${patterns}${example})` };
      });
      return ctx.reply(bridgeText.help(entries, isAdmin(ctx.from?.id)));
    });

    bot.command('status', async (ctx) => {
      const fleet = await runtime.fleetStatus();
      await ctx.reply(
        bridgeText.status({ name: config.name, polling: runtime.polling, running: runtime.jobs.runningCount, queued: runtime.jobs.queuedCount, uptimeMs: Math.round(process.uptime() * 1000) }, fleet),
      );
    });

    bot.command('whoami', (ctx) => {
      const u = userOf(ctx);
      if (u === undefined) return;
      return ctx.reply(bridgeText.whoami(u, isAdmin(u.id), isAllowed(u.id)));
    });

    bot.command('jobs', async (ctx) => {
      const u = userOf(ctx);
      if (u === undefined) return;
      const jobs = runtime.jobs.list(u.id).slice(-10);
      if (jobs.length === 0) return ctx.reply(bridgeText.noJobs());
      const lines = jobs.map((j) => `#${j.id} ${j.title} — ${j.status}`);
      const running = jobs.filter((j) => j.status === 'running' || j.status === 'queued');
      await ctx.reply([bridgeText.jobsHeader(), ...lines].join('\n'), {
        ...(running.length > 0 ? { reply_markup: { inline_keyboard: running.map((j) => [{ text: `Stop #${j.id}`, callback_data: `bridge:stop:${j.id}` }]) } } : {}),
      });
    });

    const stopFor = (userId: number, arg: string): string => {
      if (arg === 'all') {
        const r = runtime.jobs.cancel(userId, { all: true });
        return bridgeText.stopped(r.stopped, r.dropped);
      }
      // One job by its number: its owner's, or anyone's for an admin (the job pool checks).
      if (arg !== '') return /^\d+$/.test(arg) ? runtime.jobs.stopJob(Number(arg), userId).message : bridgeText.notRunning(arg);
      const r = runtime.jobs.cancel(userId);
      return bridgeText.stopped(r.stopped, 0);
    };

    bot.command('stop', async (ctx) => {
      const u = userOf(ctx);
      if (u === undefined || ctx.chatId === undefined) return;
      const arg = String(ctx.match ?? '').trim().replace(/^#/, '');
      const ended = await sessions?.stopInChat(ctx.chatId, arg);
      if (ended !== undefined && arg !== '' && arg !== 'all') return ctx.reply(bridgeText.sessionsStopped(ended.ended, ended.dropped)); // /stop <session>
      const jobs = stopFor(u.id, arg);
      await ctx.reply(ended !== undefined && ended.ended.length > 0 ? `${bridgeText.sessionsStopped(ended.ended, ended.dropped)}\n${jobs}` : jobs);
    });

    bot.on('callback_query', async (ctx, next) => {
      const data = ctx.callbackQuery?.data ?? '';
      const m = stopButton.exec(data);
      if (m === null) return next();
      const u = userOf(ctx);
      if (u === undefined) return;
      const text = stopFor(u.id, m[1] as string);
      await ctx.answerCallbackQuery({ text });
    });

    bot.command('restart', async (ctx) => {
      const u = userOf(ctx);
      if (u === undefined || ctx.chatId === undefined) return;
      if (!isAdmin(u.id)) return ctx.reply(bridgeText.restartRefused());
      const chatId = ctx.chatId;
      runtime.state.update((d) => {
        d.restartNotice = { chatId, requestedAt: Date.now() };
      });
      await runtime.state.flush();
      await ctx.reply(bridgeText.restarting());
      runtime.requestRestart(`/restart by user ${u.id}`);
    });

    for (const [name] of Object.entries(config.commands)) {
      bot.command(name, async (ctx) => {
        const u = userOf(ctx);
        if (u === undefined || ctx.chatId === undefined) return;
        await runtime.jobs.submit({ command: name, args: String(ctx.match ?? ''), userId: u.id, chatId: ctx.chatId, updateId: ctx.update.update_id });
      });
    }

    // Any other command: say so, rather than silence.
    bot.hears(/^\/([A-Za-z0-9_]+)/, (ctx) => {
      const m = ctx.match as RegExpMatchArray;
      return ctx.reply(bridgeText.unknown(m[1] as string));
    });

    // Anything else a person writes goes to the chat's default session, when there are sessions;
    // without sessions, plain text gets a one-line pointer to /help (once in a while per user).
    if (sessions !== undefined) bot.on('message', (ctx) => sessions.plainMessage(ctx));
    else {
      const hint = new PlainTextHint();
      bot.on('message', (ctx) => {
        const u = userOf(ctx);
        if (u === undefined || ctx.message?.text === undefined || !hint.due(u.id)) return;
        return ctx.reply(bridgeText.plainTextHint());
      });
    }

    // Last: a button no handler knows (an old message's, a forged one) still stops the user's spinner.
    bot.on('callback_query', (ctx) => ctx.answerCallbackQuery({ text: bridgeText.unknownButton() }));

    buttons.verify(); // throws a GhostButtonError: bot setup fails, loudly

    // The command menu only decorates the bot: tried in the background, so a rate-limited or
    // foreign answer to setMyCommands never fails start-up (see decorate-in-background.ts).
    let menu: Decoration | undefined;
    runtime.addService({
      name: 'bridge commands',
      start: async () => {
        const commands = table.list().map((e) => ({ command: e.name, description: e.description.slice(0, 256) }));
        menu = decorateInBackground({ what: 'set the command menu (setMyCommands)', call: (signal) => bot.api.setMyCommands({ commands }, signal), logger: runtime.logger });
        const notice = runtime.state.data.restartNotice;
        if (notice !== null) {
          runtime.state.update((d) => {
            d.restartNotice = null;
          });
          await bot.api.sendMessage({ chat_id: notice.chatId, text: bridgeText.backAfter(Math.max(1, Math.round((Date.now() - notice.requestedAt) / 1000))) });
        }
      },
      stop: () => menu?.stop(),
    });
  },
  { state: { defaults: () => ({ restartNotice: null, sessions: emptySessionsFile() }), schema: stateSchema } },
);
