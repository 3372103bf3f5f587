/**
 * Conformance, receiving updates: node-telegram-bot-api v2's real `Api` against the sim. Long
 * polling, offsets and redelivery, limit and allowed_updates, the two 409s, and the webhook
 * methods, with Telegram's exact descriptions.
 */
import { waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { TelegramApiError } from 'node-telegram-bot-api';
import { type SimHandle, startSim } from '../src/index.js';
import { apiFor, textOf, tokenFor } from './helpers.js';

const TOKEN = tokenFor(7001);
const CONFLICT_POLL = 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
const CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

async function rejection(promise: Promise<unknown>): Promise<TelegramApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TelegramApiError) return error;
    throw error;
  }
  throw new Error('expected a TelegramApiError, but the call succeeded');
}

describe('bot-api-sim conformance: getUpdates and webhooks', () => {
  let sim: SimHandle;

  beforeEach(async () => {
    sim = await startSim();
  });

  afterEach(async () => {
    await sim.close();
  });

  it('answers a long poll as soon as an update arrives', async () => {
    const api = apiFor(sim.url, TOKEN);
    const started = Date.now();
    const poll = api.getUpdates({ timeout: 30 });
    await waitFor(async () => (await sim.client.stats(TOKEN)).pendingPollers === 1, { what: 'the poll to be held' });
    const injected = await sim.client.sendMessage(TOKEN, { text: 'ping' });

    const updates = await poll;
    expect(Date.now() - started).to.be.below(10_000); // far below the 30 s timeout
    expect(updates).to.have.length(1);
    expect(updates[0]!.update_id).to.equal(injected.update_id);
    expect(textOf(updates[0]!)).to.equal('ping');
  });

  it('answers an empty list when the long poll times out', async () => {
    const updates = await apiFor(sim.url, TOKEN).getUpdates({ timeout: 1 });
    expect(updates).to.deep.equal([]);
  });

  it('redelivers updates until an offset confirms them, then forgets them for good', async () => {
    const api = apiFor(sim.url, TOKEN);
    const ids: number[] = [];
    for (const text of ['one', 'two', 'three']) ids.push((await sim.client.sendMessage(TOKEN, { text })).update_id!);
    expect(ids[1]).to.equal(ids[0]! + 1);
    expect(ids[2]).to.equal(ids[1]! + 1);

    expect((await api.getUpdates()).map((u) => u.update_id)).to.deep.equal(ids);
    expect((await api.getUpdates()).map((u) => u.update_id)).to.deep.equal(ids, 'unconfirmed updates come again');
    expect((await api.getUpdates({ offset: ids[1] })).map((u) => u.update_id)).to.deep.equal(ids.slice(1));
    expect((await api.getUpdates()).map((u) => u.update_id)).to.deep.equal(ids.slice(1), 'the first is forgotten for good');
    expect(await api.getUpdates({ offset: ids[2]! + 1 })).to.deep.equal([]);
    expect(await api.getUpdates()).to.deep.equal([]);
    const next = await sim.client.sendMessage(TOKEN, { text: 'four' });
    expect(next.update_id).to.equal(ids[2]! + 1, 'update ids keep counting up');
  });

  it('keeps only the last updates for a negative offset', async () => {
    const api = apiFor(sim.url, TOKEN);
    for (const text of ['a', 'b', 'c']) await sim.client.sendMessage(TOKEN, { text });
    const updates = await api.getUpdates({ offset: -1 });
    expect(updates.map(textOf)).to.deep.equal(['c']);
  });

  it('hands out at most `limit` updates, oldest first', async () => {
    for (const text of ['a', 'b', 'c']) await sim.client.sendMessage(TOKEN, { text });
    const updates = await apiFor(sim.url, TOKEN).getUpdates({ limit: 2 });
    expect(updates.map(textOf)).to.deep.equal(['a', 'b']);
  });

  it('filters new updates by allowed_updates from the call that set it on', async () => {
    const api = apiFor(sim.url, TOKEN);
    await sim.client.sendMessage(TOKEN, { text: 'before' });
    await api.getUpdates({ allowed_updates: ['callback_query'], offset: -1 });
    const skipped = await sim.client.sendMessage(TOKEN, { text: 'after' });
    expect(skipped.update_id).to.equal(null);
    expect(skipped.skipped).to.equal('allowed_updates');
    await api.getUpdates({ allowed_updates: [] });
    expect((await sim.client.sendMessage(TOKEN, { text: 'default again' })).update_id).to.be.a('number');
  });

  it('ends a held poll with 409 when a second getUpdates arrives, and counts both as pending', async () => {
    const first = apiFor(sim.url, TOKEN).getUpdates({ timeout: 30 });
    const firstError = rejection(first);
    await waitFor(async () => (await sim.client.stats(TOKEN)).pendingPollers === 1, { what: 'the first poll to be held' });

    const second = await apiFor(sim.url, TOKEN).getUpdates({ timeout: 0 });
    expect(second).to.deep.equal([]);
    const error = await firstError;
    expect(error.errorCode).to.equal(409);
    expect(error.description).to.equal(CONFLICT_POLL);

    const stats = await sim.client.stats(TOKEN);
    expect(stats.conflicts).to.equal(1);
    expect(stats.maxPendingPollers).to.equal(2);
    expect(stats.pendingPollers).to.equal(0);
    expect(stats.getUpdatesCalls).to.equal(2);
  });

  it('answers 409 to getUpdates while a webhook is set, until deleteWebhook', async () => {
    const api = apiFor(sim.url, TOKEN);
    expect(await api.setWebhook({ url: 'https://bots.example.com/hook' })).to.equal(true);
    const info = await api.getWebhookInfo();
    expect(info.url).to.equal('https://bots.example.com/hook');

    const error = await rejection(api.getUpdates({ timeout: 0 }));
    expect(error.errorCode).to.equal(409);
    expect(error.description).to.equal(CONFLICT_WEBHOOK);
    expect((await sim.client.stats(TOKEN)).webhook?.url).to.equal('https://bots.example.com/hook');

    expect(await api.deleteWebhook()).to.equal(true);
    expect((await api.getWebhookInfo()).url).to.equal('');
    expect(await api.getUpdates({ timeout: 0 })).to.deep.equal([]);
  });

  it('ends a held poll with 409 when a webhook is set', async () => {
    const poll = rejection(apiFor(sim.url, TOKEN).getUpdates({ timeout: 30 }));
    await waitFor(async () => (await sim.client.stats(TOKEN)).pendingPollers === 1, { what: 'the poll to be held' });
    await apiFor(sim.url, TOKEN).setWebhook({ url: 'https://bots.example.com/hook' });
    const error = await poll;
    expect(error.errorCode).to.equal(409);
    expect(error.description).to.equal('Conflict: terminated by setWebhook request');
  });

  it('refuses a webhook that is not HTTPS', async () => {
    const error = await rejection(apiFor(sim.url, TOKEN).setWebhook({ url: 'http://bots.example.com/hook' }));
    expect(error.errorCode).to.equal(400);
    expect(error.description).to.equal('Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
  });

  it('keeps updates queued under a webhook and drops them on request', async () => {
    const api = apiFor(sim.url, TOKEN);
    await api.setWebhook({ url: 'https://bots.example.com/hook' });
    await sim.client.sendMessage(TOKEN, { text: 'queued' });
    expect((await api.getWebhookInfo()).pending_update_count).to.equal(1);
    await api.deleteWebhook({ drop_pending_updates: true });
    expect(await api.getUpdates({ timeout: 0 })).to.deep.equal([]);
  });

  it('serves getMe from the token, with the username set through the control API', async () => {
    const api = apiFor(sim.url, TOKEN);
    const me = await api.getMe();
    expect(me).to.include({ id: 7001, is_bot: true, username: 'sim_7001_bot' });
    await sim.client.setProfile(TOKEN, { username: 'renamed_bot' });
    expect((await api.getMe()).username).to.equal('renamed_bot');
  });
});
