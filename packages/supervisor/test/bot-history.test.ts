/**
 * The dashboard's history: the ring keeps the newest samples only, handler quantiles come out of
 * the bots' cumulative buckets, and a sample turns counter increases into rates (a restarted
 * process counting from 0 again).
 */
import { type BotCounters, createLogger, HANDLER_SECONDS_BUCKETS } from '@botvisor/core';
import { expect } from 'chai';
import { BotHistory, type BotReading } from '../src/history/bot-history.js';
import { histogramQuantileMs } from '../src/history/histogram-quantile.js';
import { SampleRing } from '../src/history/sample-ring.js';

function counters(updates: number, fast: number, slow: number): BotCounters {
  // `fast` handlers took ≤ 10 ms, `slow` ones ≤ 1 s: cumulative counts per bound.
  const buckets = HANDLER_SECONDS_BUCKETS.map((le) => (le >= 0.01 ? fast : 0) + (le >= 1 ? slow : 0));
  return { updates, handlerErrors: 0, handlerSeconds: { sum: 0, count: fast + slow, buckets }, telegramErrors: {}, jobsQueued: 0 };
}

describe('dashboard history (ring, quantiles, samples)', () => {
  it('a ring keeps the newest `capacity` samples, oldest first', () => {
    const ring = new SampleRing<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.toArray()).to.deep.equal([3, 4, 5]);
    expect(ring.size).to.equal(3);
  });

  it('quantiles from cumulative buckets, interpolated inside the bucket', () => {
    const bounds = [0.1, 1];
    expect(histogramQuantileMs(0.5, [10, 10], 10, bounds)).to.equal(50);
    expect(histogramQuantileMs(0.99, [9, 10], 10, bounds)).to.be.closeTo(910, 0.001);
    expect(histogramQuantileMs(0.5, [0, 0], 0, bounds)).to.equal(null);
  });

  it('a sample turns counter increases into updates/s and latency; a new process counts from 0; a stopped bot has no rates', async () => {
    let now = 1_000_000;
    const reading: BotReading = { name: 'main', restarts: 0, problem: null, cpu: 1.5, memoryBytes: 50_000_000, pid: 10 };
    let latest: { pid: number; counters: BotCounters } | undefined = { pid: 10, counters: counters(100, 0, 0) };
    const history = new BotHistory({ read: async () => [reading], counters: () => latest, logger: createLogger({ proc: 'history-test', console: 'never' }), now: () => now }, { sampleMs: 10_000, keep: 3 });
    await history.sample();
    now += 10_000;
    latest = { pid: 10, counters: counters(150, 49, 1) };
    await history.sample();
    now += 10_000;
    reading.pid = 11;
    reading.restarts = 1;
    reading.problem = 'it cannot poll';
    latest = { pid: 11, counters: counters(20, 20, 0) };
    await history.sample();
    now += 10_000;
    reading.pid = null;
    await history.sample();
    const main = history.snapshot().bots.main;
    expect(main?.t).to.deep.equal([1010, 1020, 1030]); // keep: 3, the first sample is gone
    expect(main?.updatesPerSec).to.deep.equal([5, 2, null]);
    expect(main?.p50Ms).to.be.an('array');
    expect(main?.p50Ms[0]).to.be.at.most(10);
    expect(main?.p99Ms[0]).to.be.above(10);
    expect(main?.restarts).to.deep.equal([0, 1, 1]);
    expect(main?.problem).to.deep.equal([0, 1, 1]);
    expect(main?.rssBytes).to.deep.equal([50_000_000, 50_000_000, null]);
  });
});
