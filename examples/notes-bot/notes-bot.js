// A small custom bot for botvisor: keeps a list of notes per user in durable state.
//   /note <text>   add a note          /notes   list them          /forget   clear them
// Run it under botvisor with the botvisor.json beside this file (see README.md here).
import { defineBot } from '@botvisor/runtime';

export default defineBot(
  (bot, runtime) => {
    bot.command('note', async (ctx) => {
      const text = String(ctx.match ?? '').trim();
      if (text === '') return ctx.reply('Usage: /note <text>');
      const user = String(ctx.from?.id);
      // update() is synchronous: check-and-change in one step, written to disk right after.
      const count = runtime.state.update((state) => {
        state.notes[user] ??= [];
        const list = state.notes[user];
        if (list.length >= 100) return undefined;
        list.push(text.slice(0, 500));
        return list.length;
      });
      await ctx.reply(count === undefined ? 'You have 100 notes already; /forget some first.' : `Noted (${count}).`);
    });

    bot.command('notes', (ctx) => {
      const list = runtime.state.data.notes[String(ctx.from?.id)] ?? [];
      return ctx.reply(list.length === 0 ? 'No notes yet. Add one with /note <text>.' : list.map((n, i) => `${i + 1}. ${n}`).join('\n'));
    });

    bot.command('forget', (ctx) => {
      runtime.state.update((state) => {
        delete state.notes[String(ctx.from?.id)];
      });
      return ctx.reply('Forgotten.');
    });

    bot.on('message', (ctx) => {
      // A message that arrived before a crash is handed out again, marked: say so instead of guessing.
      if (ctx.redelivered) return ctx.reply('I restarted while reading your last message; please send it again.');
      return ctx.reply('Try /note <text>, /notes or /forget.');
    });
  },
  { state: { defaults: () => ({ notes: {} }) } },
);
