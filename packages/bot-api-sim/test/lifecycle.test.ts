/**
 * Starting and closing: a free port read back, a close() that ends held polls and waits at once
 * and can be called twice, and pending-poller counting when a client hangs up.
 */
import { waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { type SimHandle, startSim } from '../src/index.js';
import { apiFor, DEFAULT_CHAT, jsonPost, tokenFor } from './helpers.js';

const TOKEN = tokenFor(7401);

describe('bot-api-sim lifecycle', () => {
  let sim: SimHandle | undefined;

  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('listens on 127.0.0.1 and a free port by default', async () => {
    sim = await startSim();
    expect(sim.host).to.equal('127.0.0.1');
    expect(sim.port).to.be.above(0);
    expect(sim.url).to.equal(`http://127.0.0.1:${sim.port}`);
    expect((await fetch(`${sim.url}/sim/health`)).status).to.equal(200);
  });

  it('close() ends a held long poll and a pending wait promptly, and twice is fine', async () => {
    const started = await startSim();
    sim = started;
    await started.client.sendMessage(TOKEN, { text: 'hi' });
    const poll = apiFor(started.url, TOKEN)
      .getUpdates({ offset: 2, timeout: 50 })
      .then(
        () => 'answered',
        () => 'failed',
      );
    const wait = started.client.waitForMessage(TOKEN, DEFAULT_CHAT, { text: 'never', timeoutMs: 60_000 }).then(
      () => 'answered',
      () => 'failed',
    );
    await waitFor(async () => (await started.client.stats(TOKEN)).pendingPollers === 1, { what: 'the poll to be held' });

    const closing = Date.now();
    await Promise.all([started.close(), started.close()]);
    expect(await poll).to.be.oneOf(['answered', 'failed']);
    expect(await wait).to.equal('failed');
    expect(Date.now() - closing).to.be.below(5_000);
    let refused = false;
    await fetch(`${started.url}/sim/health`).catch(() => {
      refused = true;
    });
    expect(refused).to.equal(true, 'nothing listens after close');
  });

  it('stops counting a poll as pending when its client hangs up', async () => {
    const started = await startSim();
    sim = started;
    const hangUp = new AbortController();
    const poll = apiFor(started.url, TOKEN)
      .getUpdates({ timeout: 50 }, hangUp.signal)
      .catch(() => undefined);
    await waitFor(async () => (await started.client.stats(TOKEN)).pendingPollers === 1, { what: 'the poll to be held' });
    hangUp.abort();
    await poll;
    await waitFor(async () => (await started.client.stats(TOKEN)).pendingPollers === 0, { what: 'the hung-up poll to be let go' });
    expect((await started.client.stats(TOKEN)).maxPendingPollers).to.equal(1);
    expect(await apiFor(started.url, TOKEN).getUpdates({ timeout: 0 })).to.deep.equal([], 'the next poll is no conflict');
    expect((await started.client.stats(TOKEN)).conflicts).to.equal(0);
  });

  it('answers 413 past the body limits, for fields and for files', async () => {
    sim = await startSim({ bodyLimits: { maxFieldBytes: 200, maxFileBytes: 1000 } });
    await sim.client.sendMessage(TOKEN, { text: 'hi' });
    const big = await fetch(`${sim.botUrl(TOKEN)}/sendMessage`, jsonPost({ chat_id: DEFAULT_CHAT, text: 'x'.repeat(300) }));
    expect(big.status).to.equal(413);
    expect(await big.json()).to.deep.equal({ ok: false, error_code: 413, description: 'Request Entity Too Large' });

    const form = new FormData();
    form.set('chat_id', String(DEFAULT_CHAT));
    form.set('document', new Blob([new Uint8Array(2000)]), 'big.bin');
    expect((await fetch(`${sim.botUrl(TOKEN)}/sendDocument`, { method: 'POST', body: form })).status).to.equal(413);
    const small = new FormData();
    small.set('chat_id', String(DEFAULT_CHAT));
    small.set('document', new Blob([new Uint8Array(500)]), 'small.bin');
    expect((await fetch(`${sim.botUrl(TOKEN)}/sendDocument`, { method: 'POST', body: small })).status).to.equal(200);
  });

  it('arms faults given to startSim', async () => {
    sim = await startSim({ faults: [{ method: 'getMe', fail: { error_code: 500, description: 'Internal Server Error' } }] });
    const first = await fetch(`${sim.botUrl(TOKEN)}/getMe`);
    expect(first.status).to.equal(500);
    expect((await fetch(`${sim.botUrl(TOKEN)}/getMe`)).status).to.equal(200);
  });

  it('gives in-process access to the same state', async () => {
    sim = await startSim({ firstUpdateId: 1000 });
    const injected = sim.users.sendMessage(TOKEN, { text: 'in process' });
    expect(injected.update_id).to.equal(1000);
    expect(sim.simulator.bot(TOKEN).updates.pendingCount).to.equal(1);
    expect((await sim.client.stats(TOKEN)).pendingUpdates).to.equal(1);
  });
});
