/**
 * Conformance, flood control over HTTP with real time: a message over the limit gets Telegram's
 * 429 with `parameters.retry_after`, and node-telegram-bot-api's retry waits that long and then
 * gets through. Strict mode keeps the windows at one second so the suite stays fast.
 */
import { expect } from 'chai';
import { TelegramApiError } from 'node-telegram-bot-api';
import { type SimHandle, startSim } from '../src/index.js';
import { apiFor, DEFAULT_CHAT, tokenFor } from './helpers.js';

const TOKEN = tokenFor(7201);

describe('bot-api-sim conformance: flood control', () => {
  let sim: SimHandle;

  afterEach(async () => {
    await sim?.close();
  });

  it('answers 429 Too Many Requests with retry_after past the per-chat limit', async () => {
    sim = await startSim({ flood: 'strict' });
    await sim.client.sendMessage(TOKEN, { text: 'hi' });
    const api = apiFor(sim.url, TOKEN);
    await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'one' });
    let error: unknown;
    try {
      await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'two' });
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(TelegramApiError);
    const apiError = error as TelegramApiError;
    expect(apiError.errorCode).to.equal(429);
    expect(apiError.retryAfter).to.equal(1);
    expect(apiError.description).to.equal('Too Many Requests: retry after 1');
    const stats = await sim.client.stats(TOKEN);
    expect(stats.tooManyRequests).to.equal(1);
    expect(stats.messagesSent).to.equal(1);
  });

  it('lets a client that honours retry_after through after the wait', async () => {
    sim = await startSim({ flood: 'strict' });
    await sim.client.sendMessage(TOKEN, { text: 'hi' });
    const api = apiFor(sim.url, TOKEN, { maxRetries: 2 });
    await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'one' });
    const started = Date.now();
    const second = await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'two' });
    expect(second.text).to.equal('two');
    expect(Date.now() - started).to.be.at.least(900, 'the client waited out retry_after');
    const stats = await sim.client.stats(TOKEN);
    expect(stats.tooManyRequests).to.equal(1);
    expect(stats.messagesSent).to.equal(2);
    expect((await sim.client.transcript(TOKEN, DEFAULT_CHAT)).entries.map((e) => e.text)).to.deep.equal(['one', 'two']);
  });

  it('is off by default and can be switched through the control API', async () => {
    sim = await startSim();
    await sim.client.sendMessage(TOKEN, { text: 'hi' });
    const api = apiFor(sim.url, TOKEN);
    for (let i = 0; i < 10; i++) await api.sendMessage({ chat_id: DEFAULT_CHAT, text: `burst ${i}` });

    const settings = await sim.client.setFlood({ mode: 'telegram', limits: { perChatBurst: 2 } });
    expect(settings.mode).to.equal('telegram');
    expect(settings.limits.perChatBurst).to.equal(2);
    await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'a' });
    await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'b' });
    let refused = false;
    try {
      await api.sendMessage({ chat_id: DEFAULT_CHAT, text: 'c' });
    } catch (error) {
      refused = error instanceof TelegramApiError && error.errorCode === 429;
    }
    expect(refused).to.equal(true);
  });
});
