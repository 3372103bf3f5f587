/**
 * A whole bot against the sim: node-telegram-bot-api's `Bot` with its own long-poll loop answers
 * a command and a button tap, driven and checked only through the control API, the way later
 * end-to-end tests and the sandbox use the sim.
 */
import { expect } from 'chai';
import { Bot } from 'node-telegram-bot-api';
import { type SimHandle, startSim } from '../src/index.js';
import { tokenFor } from './helpers.js';

const TOKEN = tokenFor(7601);

describe('bot-api-sim end to end', () => {
  let sim: SimHandle;
  let bot: Bot;
  let polling: Promise<void> | undefined;

  beforeEach(async () => {
    sim = await startSim({ flood: 'telegram' });
    bot = new Bot(TOKEN, { apiRoot: sim.url });
    bot.command('start', (ctx) => ctx.reply('Welcome! Pick one', { reply_markup: { inline_keyboard: [[{ text: 'Red', callback_data: 'red' }]] } }));
    bot.on('callback_query', async (ctx) => {
      if (!('callback_query' in ctx.update)) return;
      const { from, data } = ctx.update.callback_query;
      await ctx.answerCallbackQuery({ text: 'Noted' });
      await ctx.api.sendMessage({ chat_id: from.id, text: `You picked ${data}` });
    });
  });

  afterEach(async () => {
    bot.stop();
    await sim.close();
    await polling;
  });

  it('answers /start and a button tap, with one poller at a time', async () => {
    polling = bot.startPolling(undefined, { timeout: 10 });
    const alice = sim.client.bot(TOKEN);
    const started = await alice.sendCommand({ user: { id: 42, first_name: 'Alice' }, command: 'start' });
    const welcome = await alice.waitForMessage(42, { pattern: /^Welcome/, after: started.cursor });
    expect(welcome.reply_markup).to.deep.equal({ inline_keyboard: [[{ text: 'Red', callback_data: 'red' }]] });

    const tapped = await alice.tapButton({ user: { id: 42, first_name: 'Alice' }, message_id: welcome.message_id!, data: 'red' });
    const answer = await alice.waitForMessage(42, { text: 'You picked red', after: tapped.cursor });
    expect(answer.kind).to.equal('sent');
    const kinds = (await alice.transcript(42)).entries.map((e) => e.kind);
    expect(kinds).to.deep.equal(['sent', 'callback_answer', 'sent']);

    const stats = await alice.stats();
    expect(stats.maxPendingPollers).to.equal(1);
    expect(stats.conflicts).to.equal(0);
  });
});
