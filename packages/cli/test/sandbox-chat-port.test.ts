/**
 * The dashboard's sandbox chat port against a real simulator in this process, with the test
 * playing the bot over the Bot API: the user's own messages merged at their transcript position
 * (and bounded), the long poll and what wakes it, a group chat, and failures that say what went
 * wrong without naming the token.
 */
import { type SimHandle, startSim } from '@botvisor/bot-api-sim';
import { tokenHash } from '@botvisor/core';
import { expect } from 'chai';
import { KEEP_SENT, SimSandboxChat } from '../src/sandbox/sandbox-chat-port.js';

const TOKEN = '4343:AAHport_test_token_00000000000000';
const USER = { id: 808, first_name: 'Ada' };

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('sandbox chat port (SimClient against a simulator in this process)', function () {
  this.timeout(30_000);
  let sim: SimHandle;
  const never = new AbortController().signal;

  const botSays = async (method: string, params: object): Promise<void> => {
    const res = await fetch(`${sim.url}/bot${TOKEN}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
    const body = (await res.json()) as { ok: boolean; description?: string };
    if (!body.ok) throw new Error(`${method}: ${body.description}`);
  };
  const portFor = (chatId = USER.id): SimSandboxChat => new SimSandboxChat({ bot: sim.client.bot(TOKEN), user: USER, chatId });

  beforeEach(async () => {
    sim = await startSim();
  });
  afterEach(async () => {
    await sim.close();
  });

  it('names the bot by its token hash only, and merges the user\'s messages in at the transcript position they were sent at', async () => {
    const port = portFor();
    expect(port.botTokenHash).to.equal(tokenHash(TOKEN));
    expect(JSON.stringify({ ...port })).not.to.include(TOKEN.split(':')[1]);

    const first = await port.send('/start');
    expect(first).to.deep.include({ userCursor: 1 });
    expect(first.item).to.include({ id: 'u1', from: 'user', kind: 'message', text: '/start' });
    await botSays('sendMessage', { chat_id: USER.id, text: 'hello', reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a' }, { text: 'B', callback_data: 'b' }]] } });
    await port.send('second');
    await botSays('sendMessage', { chat_id: USER.id, text: 'again' });

    const all = await port.page(0, 0, 0, never);
    expect(all.items.map((i) => `${i.id}:${i.text}`)).to.deep.equal(['u1:/start', 'b2:hello', 'u2:second', 'b4:again']);
    expect(all.items[1]?.buttons).to.deep.equal([['A', 'B']]);
    expect(all).to.include({ cursor: 2, userCursor: 2 });
    // Past both cursors only the newer of each side, still in order.
    expect((await port.page(1, 1, 0, never)).items.map((i) => i.id)).to.deep.equal(['u2', 'b4']);
    expect((await port.page(2, 2, 0, never)).items).to.deep.equal([]);
  });

  it('shows what the user wrote from another client (the terminal\'s `botvisor chat`), and a tap on a button reaches the bot', async () => {
    const port = portFor();
    await port.send('/start');
    await botSays('sendMessage', { chat_id: USER.id, text: 'pick one', reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] } });
    sim.users.sendMessage(TOKEN, { user: USER, text: 'typed in the terminal' });
    const page = await port.page(0, 0, 0, never);
    expect(page.items.map((i) => `${i.id}:${i.text}`)).to.deep.equal(['u1:/start', 'b2:pick one', 'u2:typed in the terminal']);
    expect(page.items[1]?.keys).to.deep.equal([[{ text: 'A', data: 'a' }]]);
    await port.tap(2, 'a');
    const taps = (await sim.client.pendingUpdates(TOKEN)).filter((u) => u.callback_query !== undefined);
    expect(taps.map((u) => u.callback_query?.data)).to.deep.equal(['a']);
    expect((await rejection(port.tap(2, 'nope'))).message).to.match(/^the simulator refused: .*no inline button/);
  });

  it(`keeps only the last ${KEEP_SENT} messages sent from the panel`, async () => {
    const port = portFor();
    for (let n = 1; n <= KEEP_SENT + 2; n++) await port.send(`m${n}`);
    const page = await port.page(0, 0, 0, never);
    expect(page.userCursor).to.equal(KEEP_SENT + 2);
    expect(page.items).to.have.length(KEEP_SENT);
    expect(page.items[0]?.id).to.equal('u3');
  });

  it('long-polls: a bot message, a send from the panel, the time running out or the browser leaving ends the wait', async () => {
    const port = portFor();
    // Nobody wrote yet: only a send from here can end the wait.
    const woken = port.page(0, 0, 20_000, never);
    await new Promise((r) => setTimeout(r, 100));
    await port.send('hi');
    expect((await woken).items.map((i) => i.id)).to.deep.equal(['u1']);

    // The chat is known now: the sim's wait wakes on the bot's reply.
    const waiting = port.page(0, 1, 20_000, never);
    await new Promise((r) => setTimeout(r, 100));
    await botSays('sendMessage', { chat_id: USER.id, text: 'reply' });
    const reply = await waiting;
    expect(reply.items.map((i) => `${i.from}:${i.text}`)).to.deep.equal(['bot:reply']);

    let started = Date.now();
    expect((await port.page(reply.cursor, 1, 300, never)).items).to.deep.equal([]);
    expect(Date.now() - started).to.be.within(250, 5000);

    const leaving = new AbortController();
    started = Date.now();
    const held = port.page(reply.cursor, 1, 20_000, leaving.signal);
    setTimeout(() => leaving.abort(), 100);
    expect((await held).items).to.deep.equal([]);
    expect(Date.now() - started).to.be.below(5000);
  });

  it('speaks in a group chat when the chat is not the user\'s private one', async () => {
    const port = portFor(-1005);
    await port.send('/help');
    const chats = (await sim.client.chats(TOKEN)).map((c) => c.chat);
    expect(chats).to.have.length(1);
    expect(chats[0]).to.include({ id: -1005, type: 'group' });
    expect((await sim.client.pendingUpdates(TOKEN))[0]?.message).to.deep.include({ text: '/help', from: { ...USER, is_bot: false } });
  });

  it('says the simulator refused or did not answer, and never names the token', async () => {
    const port = portFor();
    const refused = await rejection(port.send(' '));
    expect(refused.message).to.match(/^the simulator refused: Bad Request: .*text must be a non-empty string/);
    await sim.close();
    for (const failed of [await rejection(port.send('hi')), await rejection(port.page(0, 0, 1000, never))]) {
      expect(failed.message).to.match(/^the simulator did not answer: /);
      expect(failed.message).not.to.include(TOKEN.split(':')[1]);
    }
  });
});
