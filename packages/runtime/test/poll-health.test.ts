import { expect } from 'chai';
import { type Api, NetworkError, TelegramApiError, type Update } from 'node-telegram-bot-api';
import sinon from 'sinon';
import { PollHealth } from '../src/polling/poll-health.js';

type GetUpdates = Pick<Api, 'getUpdates'>;

/** A getUpdates whose every call the test answers by hand. */
function handApi(): { api: GetUpdates; answer: (updates?: Update[]) => Promise<void>; fail: (err: unknown) => Promise<void> } {
  const pending: Array<{ resolve: (u: Update[]) => void; reject: (e: unknown) => void }> = [];
  const api = {
    getUpdates: () =>
      new Promise<Update[]>((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
  } as unknown as GetUpdates;
  const settle = async (f: (p: { resolve: (u: Update[]) => void; reject: (e: unknown) => void }) => void): Promise<void> => {
    const call = pending.shift();
    if (call === undefined) throw new Error('no getUpdates call is pending');
    f(call);
    await Promise.resolve();
    await Promise.resolve();
  };
  return { api, answer: (updates = []) => settle((p) => p.resolve(updates)), fail: (err) => settle((p) => p.reject(err)) };
}

const conflict = (): TelegramApiError => new TelegramApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');

describe('poll health: the poll loop trouble as a problem sentence', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: Date.UTC(2026, 10, 28, 9, 0, 0), toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  function setup(): { health: PollHealth; reports: Array<string | null>; watched: GetUpdates; hand: ReturnType<typeof handApi> } {
    const reports: Array<string | null> = [];
    const health = new PollHealth({ apiRoot: 'http://127.0.0.1:8081', report: (p) => reports.push(p) });
    const hand = handApi();
    return { health, reports, watched: health.watch(hand.api), hand };
  }

  it('raises a conflict problem after three 409s without a poll getting through, and clears it once a poll is held 15 s without one', async () => {
    const { reports, watched, hand } = setup();
    for (let i = 0; i < 2; i++) {
      void watched.getUpdates({}).catch(() => undefined);
      await hand.fail(conflict());
      clock.tick(1000);
    }
    expect(reports, 'two conflicts are not a problem yet').to.deep.equal([]);
    void watched.getUpdates({}).catch(() => undefined);
    await hand.fail(conflict());
    expect(reports).to.deep.equal(['another process outside this supervisor is polling this token: 3 conflicts in the last 2 s; stop it, or give one of the two its own token']);
    void watched.getUpdates({});
    clock.tick(14_000);
    expect(reports, 'held 14 s: not yet proof').to.have.length(1);
    clock.tick(1000);
    expect(reports.at(-1), 'held 15 s without a 409: nobody else polls').to.equal(null);
  });

  it('a poll answered between 409s starts the count again; a webhook conflict says so', async () => {
    const { reports, watched, hand } = setup();
    for (const outcome of ['409', '409', 'ok', '409', '409'] as const) {
      void watched.getUpdates({}).catch(() => undefined);
      if (outcome === 'ok') await hand.answer();
      else await hand.fail(conflict());
    }
    expect(reports).to.deep.equal([]);
    void watched.getUpdates({}).catch(() => undefined);
    await hand.fail(new TelegramApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"));
    expect(reports[0]).to.match(/^a webhook is set on this token, so the Bot API refuses every poll: 3 conflicts/);
  });

  it('network down for 30 s: "cannot reach" with the host, never the token; an answer clears it', async () => {
    const { reports, watched, hand } = setup();
    const down = (): NetworkError => new NetworkError('Network request failed: getUpdates', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8081 (http://127.0.0.1:8081/bot123456:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQr/getUpdates)') });
    for (let i = 0; i < 4; i++) {
      void watched.getUpdates({}).catch(() => undefined);
      await hand.fail(down());
      clock.tick(10_000);
    }
    expect(reports).to.have.length(1);
    expect(reports[0]).to.match(/^cannot reach the Bot API at 127\.0\.0\.1:8081 for 30 s: Network request failed: getUpdates \(connect ECONNREFUSED/);
    expect(reports[0]).to.not.include('AAbbCCdd');
    void watched.getUpdates({});
    await hand.answer();
    expect(reports).to.deep.equal([reports[0], null]);
  });

  it('every poll refused with 400 for 30 s is a problem; its counts are refreshed at most once a minute', async () => {
    const { reports, watched, hand } = setup();
    const refuse = async (): Promise<void> => {
      void watched.getUpdates({}).catch(() => undefined);
      await hand.fail(new TelegramApiError(400, 'Bad Request: invalid offset'));
    };
    await refuse();
    clock.tick(31_000);
    await refuse();
    expect(reports).to.deep.equal(['the Bot API at 127.0.0.1:8081 has refused every poll for 31 s: 400 Bad Request: invalid offset']);
    clock.tick(10_000);
    await refuse();
    expect(reports, 'ten seconds later: no new report for a new count').to.have.length(1);
    clock.tick(60_000);
    await refuse();
    expect(reports.at(-1)).to.equal('the Bot API at 127.0.0.1:8081 has refused every poll for 101 s: 400 Bad Request: invalid offset');
  });

  it('ignores a call aborted by the loop stopping', async () => {
    const { reports, watched, hand } = setup();
    const controller = new AbortController();
    for (let i = 0; i < 3; i++) {
      void watched.getUpdates({}, controller.signal).catch(() => undefined);
      if (i === 2) controller.abort();
      await hand.fail(i === 2 ? new Error('aborted') : conflict());
    }
    expect(reports).to.deep.equal([]);
  });
});
