/**
 * The control API through `SimClient`: user actions in private and group chats, transcripts and
 * the wait helper, stats and resets, fault injection, profiles, and the route errors.
 */
import { expect } from 'chai';
import { NetworkError, TelegramApiError } from 'node-telegram-bot-api';
import { SimClientError, type SimHandle, startSim } from '../src/index.js';
import { apiFor, DEFAULT_CHAT, jsonPost, rawCall, tokenFor } from './helpers.js';

const TOKEN = tokenFor(7301);
const OTHER_TOKEN = tokenFor(7302);
const GROUP = { id: -1001234, type: 'supergroup' as const, title: 'Team' };
const ALICE = { id: 501, first_name: 'Alice', username: 'alice' };

async function clientError(promise: Promise<unknown>): Promise<SimClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SimClientError) return error;
    throw error;
  }
  throw new Error('expected a SimClientError');
}

describe('bot-api-sim control API', () => {
  let sim: SimHandle;

  beforeEach(async () => {
    sim = await startSim();
  });

  afterEach(async () => {
    await sim.close();
  });

  describe('user side', () => {
    it('sends as a given user in their private chat', async () => {
      const result = await sim.client.sendMessage(TOKEN, { user: ALICE, text: 'hi' });
      expect(result).to.include({ update_id: 1, chat_id: 501, message_id: 1, cursor: 0 });
      const [update] = await sim.client.pendingUpdates(TOKEN);
      expect(update?.message?.from).to.include({ id: 501, first_name: 'Alice', username: 'alice', is_bot: false });
      expect(update?.message?.chat).to.include({ id: 501, type: 'private' });
    });

    it('in a group, privacy mode lets through commands, mentions and replies only', async () => {
      const bot = sim.client.bot(TOKEN);
      expect((await bot.sendMessage({ user: ALICE, chat: GROUP, text: 'chatter' })).skipped).to.equal('privacy_mode');
      expect((await bot.sendCommand({ user: ALICE, chat: GROUP, command: 'help', mention: true })).update_id).to.be.a('number');
      expect((await bot.sendMessage({ user: ALICE, chat: GROUP, text: 'hey @sim_7301_bot' })).update_id).to.be.a('number');
      await bot.setProfile({ privacyMode: false });
      expect((await bot.sendMessage({ user: ALICE, chat: GROUP, text: 'chatter' })).update_id).to.be.a('number');
      const texts = (await bot.pendingUpdates()).map((u) => u.message?.text);
      expect(texts).to.deep.equal(['/help@sim_7301_bot', 'hey @sim_7301_bot', 'chatter']);
      expect((await bot.chats()).map((c) => c.chat.id)).to.deep.equal([GROUP.id]);
    });

    it('refuses malformed user actions with a 400', async () => {
      expect((await clientError(sim.client.sendMessage(TOKEN, { text: '' }))).errorCode).to.equal(400);
      expect((await clientError(sim.client.sendMessage(TOKEN, { user: ALICE, chat: { id: 5, type: 'private' }, text: 'x' }))).description).to.contain("private chat's id");
      expect((await clientError(sim.client.sendMessage(TOKEN, { chat: { id: 5, type: 'group' }, text: 'x' }))).description).to.contain('negative');
      expect((await clientError(sim.client.sendCommand(TOKEN, { command: 'no spaces' }))).errorCode).to.equal(400);
    });

    it('keeps what the user wrote per chat, with the transcript position, for any client to read; a quiet send is marked in the transcript', async () => {
      await sim.client.sendMessage(TOKEN, { user: ALICE, text: 'first' });
      const api = apiFor(sim.url, TOKEN);
      await api.sendMessage({ chat_id: 501, text: 'answer', disable_notification: true });
      await sim.client.sendCommand(TOKEN, { user: ALICE, command: 'help' });
      const all = await sim.client.userMessages(TOKEN, 501);
      expect(all.cursor).to.equal(2);
      expect(all.messages.map((m) => [m.n, m.text, m.after_seq])).to.deep.equal([
        [1, 'first', 0],
        [2, '/help', 1],
      ]);
      expect((await sim.client.userMessages(TOKEN, 501, 1)).messages.map((m) => m.text)).to.deep.equal(['/help']);
      const [sent] = (await sim.client.transcript(TOKEN, 501)).entries;
      expect(sent).to.include({ kind: 'sent', text: 'answer', disable_notification: true });
    });

    it('only taps buttons that exist on a bot message', async () => {
      await sim.client.sendMessage(TOKEN, { text: 'hi' });
      const api = apiFor(sim.url, TOKEN);
      const sent = await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'Pick', reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] } });
      expect((await clientError(sim.client.tapButton(TOKEN, { message_id: sent.message_id, data: 'b' }))).description).to.contain('no inline button');
      expect((await clientError(sim.client.tapButton(TOKEN, { message_id: 1, data: 'a' }))).description).to.contain('no bot message');
      expect((await sim.client.tapButton(TOKEN, { message_id: sent.message_id, data: 'a' })).callback_query_id).to.be.a('string');
    });

    it('queues a snapshot: a later edit does not change an update already made', async () => {
      await sim.client.sendMessage(TOKEN, { text: 'hi' });
      const api = apiFor(sim.url, TOKEN);
      const keyboard = { inline_keyboard: [[{ text: 'Go', callback_data: 'go' }]] };
      const sent = await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'before', reply_markup: keyboard });
      await sim.client.tapButton(TOKEN, { message_id: sent.message_id, data: 'go' });
      await api.editMessageText({ chat_id: DEFAULT_CHAT, message_id: sent.message_id, text: 'after', reply_markup: keyboard });
      const tap = (await sim.client.pendingUpdates(TOKEN)).find((u) => u.callback_query !== undefined);
      expect(tap?.callback_query?.message.text).to.equal('before');
    });
  });

  describe('transcript and wait', () => {
    it('lists what the bot did in order and reads on from a cursor', async () => {
      await sim.client.sendMessage(TOKEN, { text: 'hi' });
      const api = apiFor(sim.url, TOKEN);
      await api.sendChatAction({ chat_id: DEFAULT_CHAT, action: 'typing' });
      const sent = await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'one' });
      await api.editMessageText({ chat_id: DEFAULT_CHAT, message_id: sent.message_id, text: 'uno' });
      await api.deleteMessage({ chat_id: DEFAULT_CHAT, message_id: sent.message_id });
      const all = await sim.client.transcript(TOKEN, DEFAULT_CHAT);
      expect(all.entries.map((e) => e.kind)).to.deep.equal(['chat_action', 'sent', 'edited', 'deleted']);
      expect(all.entries.map((e) => e.seq)).to.deep.equal([1, 2, 3, 4]);
      expect(all.cursor).to.equal(4);
      expect(all.entries.every((e) => typeof e.timestamp === 'number')).to.equal(true);
      expect((await sim.client.transcript(TOKEN, DEFAULT_CHAT, 2)).entries.map((e) => e.kind)).to.deep.equal(['edited', 'deleted']);
    });

    it('waits for a bot message that arrives later, by pattern, after a cursor', async () => {
      const injected = await sim.client.sendMessage(TOKEN, { text: 'hi' });
      const api = apiFor(sim.url, TOKEN);
      await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'Hello earlier' });
      const after = (await sim.client.transcript(TOKEN, DEFAULT_CHAT)).cursor;
      const waiting = sim.client.waitForMessage(TOKEN, DEFAULT_CHAT, { pattern: /^hello/i, after, timeoutMs: 10_000 });
      await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'unrelated' });
      await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'HELLO later' });
      const entry = await waiting;
      expect(entry).to.include({ kind: 'sent', text: 'HELLO later', seq: 3 });
      expect(injected.cursor).to.equal(0);
      const first = await sim.client.waitForMessage(TOKEN, DEFAULT_CHAT, { text: 'Hello earlier' });
      expect(first.seq).to.equal(1, 'with no cursor the whole transcript counts');
    });

    it('matches edited messages too', async () => {
      await sim.client.sendMessage(TOKEN, { text: 'hi' });
      const api = apiFor(sim.url, TOKEN);
      const sent = await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'Working…' });
      const waiting = sim.client.waitForMessage(TOKEN, DEFAULT_CHAT, { text: 'Done', after: 1 });
      await api.editMessageText({ chat_id: DEFAULT_CHAT, message_id: sent.message_id, text: 'Done' });
      expect(await waiting).to.include({ kind: 'edited', message_id: sent.message_id });
    });

    it('answers 408 when no matching message comes in time', async () => {
      await sim.client.sendMessage(TOKEN, { text: 'hi' });
      const error = await clientError(sim.client.waitForMessage(TOKEN, DEFAULT_CHAT, { text: 'never', timeoutMs: 200 }));
      expect(error.errorCode).to.equal(408);
      expect(error.description).to.match(/^Request Timeout: no bot message with text "never"/);
    });

    it('gives up a wait when its signal aborts', async () => {
      await sim.client.sendMessage(TOKEN, { text: 'hi' });
      const leaving = new AbortController();
      const started = Date.now();
      const waiting = sim.client.bot(TOKEN).waitForMessage(DEFAULT_CHAT, { text: 'never', timeoutMs: 20_000, signal: leaving.signal });
      setTimeout(() => leaving.abort(), 100);
      const error = await waiting.then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(error?.name).to.equal('AbortError');
      expect(Date.now() - started).to.be.below(5000);
    });

    it('answers 400 chat not found for a chat nobody wrote in', async () => {
      const error = await clientError(sim.client.transcript(TOKEN, 999));
      expect(error.description).to.equal('Bad Request: chat not found');
    });
  });

  describe('stats and reset', () => {
    it('counts per token and resets stats alone or everything', async () => {
      await sim.client.sendMessage(TOKEN, { text: 'hi' });
      const api = apiFor(sim.url, TOKEN);
      await api.getUpdates({ timeout: 0 });
      await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'x' });
      const stats = await sim.client.stats(TOKEN);
      expect(stats).to.include({ botId: 7301, requests: 2, getUpdatesCalls: 1, messagesSent: 1, updatesDelivered: 1, pendingUpdates: 1, pendingPollers: 0 });
      expect((await sim.client.allStats()).map((s) => s.botId)).to.deep.equal([7301]);

      expect((await sim.client.resetStats(TOKEN)).requests).to.equal(0);
      expect((await sim.client.transcript(TOKEN, DEFAULT_CHAT)).entries).to.have.length(1, 'a stats reset keeps the chat');

      await sim.client.reset();
      expect((await clientError(sim.client.transcript(TOKEN, DEFAULT_CHAT))).description).to.equal('Bad Request: chat not found');
      expect((await sim.client.stats(TOKEN)).pendingUpdates).to.equal(0);
      expect((await sim.client.sendMessage(TOKEN, { text: 'again' })).update_id).to.equal(2, 'update ids never go back');
    });
  });

  describe('fault injection', () => {
    it('fails the next K calls of a method with the given error, then lets calls through', async () => {
      await sim.client.sendMessage(TOKEN, { text: 'hi' });
      await sim.client.addFault({ method: 'sendMessage', times: 2, fail: { error_code: 502, description: 'Bad Gateway' } });
      const api = apiFor(sim.url, TOKEN);
      for (let i = 0; i < 2; i++) {
        try {
          await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'x' });
          expect.fail('the fault should have failed the call');
        } catch (error) {
          expect(error).to.be.instanceOf(TelegramApiError);
          expect((error as TelegramApiError).errorCode).to.equal(502);
        }
      }
      expect((await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'x' })).text).to.equal('x');
      expect(await sim.client.faults()).to.deep.equal([]);
    });

    it('injects a 429 with retry_after, counted as such', async () => {
      await sim.client.addFault({ method: 'getMe', fail: { error_code: 429, description: 'Too Many Requests: retry after 7', retry_after: 7 } });
      const raw = await rawCall(`${sim.botUrl(TOKEN)}/getMe`);
      expect(raw.status).to.equal(429);
      expect(raw.body).to.deep.equal({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } });
      expect((await sim.client.stats(TOKEN)).tooManyRequests).to.equal(1);
    });

    it('delays a call, and drops a connection without an answer', async () => {
      await sim.client.addFault({ method: 'getme', delayMs: 300 });
      const started = Date.now();
      await apiFor(sim.url, TOKEN).getMe();
      expect(Date.now() - started).to.be.at.least(250);

      await sim.client.addFault({ method: '*', drop: true });
      let dropped: unknown;
      try {
        await apiFor(sim.url, TOKEN).getMe();
      } catch (error) {
        dropped = error;
      }
      expect(dropped).to.be.instanceOf(NetworkError);
      expect((await apiFor(sim.url, TOKEN).getMe()).id).to.equal(7301, 'only one call was dropped');
    });

    it('scopes a fault to one token when asked', async () => {
      await sim.client.addFault({ method: 'getMe', token: TOKEN, fail: { error_code: 401, description: 'Unauthorized' }, times: 5 });
      expect((await apiFor(sim.url, OTHER_TOKEN).getMe()).id).to.equal(7302);
      expect((await rawCall(`${sim.botUrl(TOKEN)}/getMe`)).status).to.equal(401);
      expect((await sim.client.faults())[0]).to.include({ remaining: 4 });
      await sim.client.clearFaults();
      expect((await rawCall(`${sim.botUrl(TOKEN)}/getMe`)).status).to.equal(200);
    });

    it('answers with a body that is not the envelope (html, json, empty) at the given status, then lets calls through', async () => {
      await sim.client.addFault({ method: 'getMe', foreign: { status: 502, body: 'html' } });
      await sim.client.addFault({ method: 'setMyCommands', foreign: { status: 500, body: 'json' } });
      await sim.client.addFault({ method: 'getMe', foreign: { status: 200, body: 'empty' } });
      const html = await fetch(`${sim.botUrl(TOKEN)}/getMe`);
      expect(html.status).to.equal(502);
      expect(html.headers.get('content-type')).to.equal('text/html');
      expect(await html.text()).to.match(/^<html>[\s\S]*<h1>502 Bad Gateway<\/h1>[\s\S]*nginx[\s\S]*<\/html>\s*$/);
      const json = await fetch(`${sim.botUrl(TOKEN)}/setMyCommands`, jsonPost({ commands: [] }));
      expect(json.status).to.equal(500);
      expect(await json.json()).to.deep.equal({ message: "API method 'setMyCommands' is not supported." });
      const empty = await fetch(`${sim.botUrl(TOKEN)}/getMe`);
      expect(empty.status).to.equal(200);
      expect(await empty.text()).to.equal('');
      expect((await rawCall(`${sim.botUrl(TOKEN)}/getMe`)).body).to.deep.include({ ok: true });
      expect((await sim.client.stats(TOKEN)).otherErrors).to.equal(2, 'the 502 and the 500 count as errors, the empty 200 does not');
    });

    it('refuses a fault that does nothing or is malformed', async () => {
      expect((await clientError(sim.client.addFault({ method: 'getMe' }))).errorCode).to.equal(400);
      expect((await clientError(sim.client.addFault({ method: 'getMe', fail: { error_code: 200, description: 'ok' } }))).errorCode).to.equal(400);
      const bad = [
        { method: 'getMe', foreign: { status: 99, body: 'html' } },
        { method: 'getMe', foreign: { status: 500, body: 'xml' } },
        { method: 'getMe', foreign: { status: 500, body: 'json' }, drop: true },
        { method: 'getMe', foreign: { status: 500, body: 'json' }, fail: { error_code: 500, description: 'Internal Server Error' } },
      ];
      for (const spec of bad) expect((await clientError(sim.client.addFault(spec as never))).description, JSON.stringify(spec)).to.match(/^Bad Request: invalid fault: (foreign|fail, drop and foreign)/);
    });
  });

  describe('routes', () => {
    it('serves health with the implemented methods', async () => {
      const health = await sim.client.health();
      expect(health.name).to.equal('bot-api-sim');
      expect(health.methods).to.include.members(['getUpdates', 'sendMessage', 'sendDocument', 'setWebhook']);
    });

    it('answers 404, 405 and 401 in the envelope', async () => {
      expect((await rawCall(`${sim.url}/sim/nothing`)).body).to.deep.equal({ ok: false, error_code: 404, description: 'Not Found' });
      expect((await rawCall(`${sim.url}/sim/reset`)).status).to.equal(405);
      expect((await rawCall(`${sim.url}/sim/bots/not-a-token/stats`)).status).to.equal(401);
      expect((await rawCall(`${sim.url}/elsewhere`)).status).to.equal(404);
    });

    it('survives malformed escapes in the path', async () => {
      expect((await rawCall(`${sim.url}/bot%E0%A4%A/getMe`)).status).to.equal(401);
      expect((await rawCall(`${sim.url}/sim/bots/%E0%A4%A/stats`)).status).to.equal(401);
      expect((await sim.client.health()).name).to.equal('bot-api-sim');
    });

    it('takes the same JSON a client sends by hand', async () => {
      const raw = await rawCall(`${sim.url}/sim/bots/${encodeURIComponent(TOKEN)}/messages`, jsonPost({ text: 'by hand' }));
      expect(raw.body).to.deep.include({ ok: true });
      const flood = await rawCall(`${sim.url}/sim/flood`, { ...jsonPost({ mode: 'sometimes' }), method: 'PUT' });
      expect(flood.status).to.equal(400);
    });
  });
});
