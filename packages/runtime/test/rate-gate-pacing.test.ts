/**
 * The rate gate's pacing (issue 18, CPU pass): waiting sends share one timer and a backlog leaves
 * in batches, while the limits stay the token buckets' exactly and a send with a free slot, or a
 * chat waiting only for its own slot, is not held back. Stepped on a fake clock and fake timers,
 * then once with real ones through an Outbox.
 */
import { expect } from 'chai';
import { Outbox } from '../src/outbox/outbox.js';
import { DEFAULT_BACKLOG_STEP_MS, RateGate } from '../src/outbox/rate-gate.js';
import { TokenBucket } from '../src/outbox/token-bucket.js';
import type { TimerFunctions } from '../src/outbox/wake-timer.js';

/** Timers on a fake clock: `next()` moves the clock to the earliest timer and runs it. */
class FakeTimers implements TimerFunctions {
  now = 0;
  armed = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private ids = 0;

  setTimeout(fn: () => void, ms: number): unknown {
    this.armed++;
    const id = ++this.ids;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Runs the earliest timer; false when none is armed. */
  async next(): Promise<boolean> {
    let first: [number, { at: number; fn: () => void }] | undefined;
    for (const entry of this.timers) if (first === undefined || entry[1].at < first[1].at) first = entry;
    if (first === undefined) return false;
    this.timers.delete(first[0]);
    this.now = Math.max(this.now, first[1].at);
    first[1].fn();
    await settled();
    return true;
  }
}

/** Lets the promise callbacks of what was released run. */
function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Checks releases against the limits: every one holds a token of a fresh bot-wide bucket replayed
 * at its time, and one chat's are ≥ 1 s apart. `slackMs`: for times read after the gate let a send
 * go (a transport's clock), which may be a millisecond late for one send and not the next.
 */
function expectWithinLimits(releases: Array<{ chat: number; at: number }>, globalPerSec: number, slackMs = 0): void {
  let now = 0;
  const wide = new TokenBucket(globalPerSec, { burst: globalPerSec, now: () => now });
  for (const r of [...releases].sort((a, b) => a.at - b.at)) {
    now = r.at + slackMs;
    expect(wide.tryTake(), `a bot-wide slot at ${r.at} ms`).to.equal(true);
  }
  const byChat = new Map<number, number[]>();
  for (const r of releases) byChat.set(r.chat, [...(byChat.get(r.chat) ?? []), r.at]);
  for (const [chat, list] of byChat) {
    for (let i = 1; i < list.length; i++) {
      expect((list[i] ?? 0) - (list[i - 1] ?? 0), `chat ${chat}: one message a second`).to.be.at.least(1000 - slackMs);
    }
  }
}

describe('outbox: the rate gate paces a backlog on one timer', () => {
  it('300 sends to 100 chats at default limits: limits exact, all out at 30/s, a wake per batch instead of a timer per send', async () => {
    const timers = new FakeTimers();
    const gate = new RateGate({}, () => timers.now, { timers });
    const releases: Array<{ chat: number; at: number }> = [];
    // As the outbox's lanes call it: one send per chat at a time, the next when the last has left.
    const lane = async (chat: number): Promise<void> => {
      for (let k = 0; k < 3; k++) {
        await gate.message(chat);
        releases.push({ chat, at: timers.now });
      }
    };
    const lanes = Array.from({ length: 100 }, (_, i) => lane(1000 + i));
    await settled();
    while (await timers.next()) {
      // step until nothing waits
    }
    await Promise.all(lanes);
    expect(releases.length).to.equal(300);
    expectWithinLimits(releases, 30);
    // 270 beyond the first burst at 30/s take 9 s; a batch leaves at most a step after its first slot.
    const last = Math.max(...releases.map((r) => r.at));
    expect(last).to.be.at.most(9000 + DEFAULT_BACKLOG_STEP_MS);
    // A timer per send and tier (the gate before) armed ~500; one wake per step's worth of slots is ~270 / 15.
    const perWake = (30 * DEFAULT_BACKLOG_STEP_MS) / 1000;
    expect(gate.wakes, 'timer wakes').to.be.at.most(Math.ceil(270 / perWake) + 3);
    expect(timers.armed, 'timers armed').to.be.at.most(gate.wakes + 3);
  });

  it('a send with a free slot leaves at once, and one chat waiting only for its own slot leaves exactly on it', async () => {
    const timers = new FakeTimers();
    const gate = new RateGate({}, () => timers.now, { timers });
    const at: number[] = [];
    await gate.message(7);
    at.push(timers.now);
    expect(timers.pending, 'no timer for a free slot').to.equal(0);
    const second = gate.message(7).then(() => at.push(timers.now));
    const other = gate.message(8).then(() => at.push(timers.now)); // another chat, a free slot: not held up by chat 7's wait
    await settled();
    expect(at).to.deep.equal([0, 0]);
    timers.now = 400;
    await timers.next();
    await Promise.all([second, other]);
    expect(at, 'chat 7 again exactly 1 s later').to.deep.equal([0, 0, 1000]);
    expect(gate.wakes).to.equal(1);
  });

  it('a small backlog leaves together when its last slot comes, not later; a group keeps its own tier', async () => {
    const timers = new FakeTimers();
    const gate = new RateGate({ globalPerSec: 10, perChatPerSec: 100, perGroupPerMin: 60, groupBurst: 1 }, () => timers.now, { timers, backlogStepMs: 400 });
    for (let i = 0; i < 10; i++) await gate.message(i); // the burst: all 10 bot-wide tokens
    const at: number[] = [];
    const three = [11, 12, 13].map((chat) => gate.message(chat).then(() => at.push(timers.now)));
    await settled();
    while (await timers.next()) {
      // step until nothing waits
    }
    await Promise.all(three);
    expect(at, 'three queued in one tick: out together when the third slot is there (300 ms at 10/s)').to.deep.equal([300, 300, 300]);
    expect(gate.wakes).to.equal(1);
    timers.now = 5000; // every bot-wide token back
    const group: number[] = [];
    const twice = [gate.message(-5), gate.message(-5)].map((p) => p.then(() => group.push(timers.now)));
    await settled();
    while (await timers.next()) {
      // step until nothing waits
    }
    await Promise.all(twice);
    expect(group, 'a group at 60/min: its second a second after the first').to.deep.equal([5000, 6000]);
  });

  it('an aborted waiter leaves the queue with its reason; the ones behind it still go; nothing left armed', async () => {
    const timers = new FakeTimers();
    const gate = new RateGate({ globalPerSec: 1, perChatPerSec: 1 }, () => timers.now, { timers });
    await gate.message(1); // the only bot-wide token
    const abort = new AbortController();
    const first = gate.message(2, abort.signal);
    const second = gate.message(3);
    abort.abort(new Error('gone'));
    let reason: unknown;
    await first.catch((err: unknown) => {
      reason = err;
    });
    expect((reason as Error).message).to.equal('gone');
    while (await timers.next()) {
      // step until nothing waits
    }
    await second;
    expect(timers.now).to.equal(1000);
    expect(timers.pending).to.equal(0);
    const tierAbort = new AbortController();
    const waiting = gate.message(3, tierAbort.signal); // chat 3 just sent: waits for its own tier
    tierAbort.abort(new Error('gone too'));
    await waiting.catch(() => undefined);
    expect(timers.pending, 'disarmed when nothing waits').to.equal(0);
  });
});

describe('outbox: paced sends with real timers', () => {
  it('60 replies to 20 chats at default limits: each within the limits, all delivered, in order per chat', async () => {
    const sent: Array<{ chat: number; at: number; text: string }> = [];
    const started = Date.now();
    const outbox = new Outbox(async (_method, params) => {
      sent.push({ chat: Number(params?.chat_id), at: Date.now() - started, text: String(params?.text) });
      return true;
    });
    const calls: Array<Promise<unknown>> = [];
    for (let k = 0; k < 3; k++) for (let c = 0; c < 20; c++) calls.push(outbox.call('sendMessage', { chat_id: 500 + c, text: `m${k}` }));
    await Promise.all(calls);
    expect(sent.length).to.equal(60);
    expectWithinLimits(sent, 30, 2);
    for (let c = 0; c < 20; c++) {
      expect(sent.filter((s) => s.chat === 500 + c).map((s) => s.text)).to.deep.equal(['m0', 'm1', 'm2']);
    }
    await outbox.stop(0);
  });
});
