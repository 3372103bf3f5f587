import type { PongMessage } from '@botvisor/core';
import { expect } from 'chai';
import { stallThresholdMs, Watchdog } from '../src/bot/watchdog.js';

function pong(seq: number): PongMessage {
  return { type: 'pong', seq, eventLoopDelayMs: 1, queueDepth: 0, runningJobs: 0 };
}

/** A watchdog on a clock the test moves; the test calls tick() where the interval timer would. */
function harness() {
  let now = 1_000_000;
  const pings: number[] = [];
  const hung: number[] = [];
  const stalls: number[] = [];
  const dog = new Watchdog({
    intervalMs: 1000,
    hungAfterMs: 3000,
    now: () => now,
    ping: (seq) => pings.push(seq),
    onHung: (silent) => hung.push(silent),
    onStall: (gap) => stalls.push(gap),
  });
  const advance = (ms: number): void => {
    now += ms;
    dog.tick();
  };
  return { dog, pings, hung, stalls, advance };
}

describe('watchdog', () => {
  it('finds a bot hung when a ping it sent goes unanswered for hungAfterMs', () => {
    const h = harness();
    h.dog.start();
    for (let i = 0; i < 2; i++) h.advance(1000);
    expect(h.hung).to.deep.equal([]);
    h.advance(1000);
    expect(h.hung).to.deep.equal([3000]);
    h.dog.stop();
  });

  it('a bot that answers every ping is never hung', () => {
    const h = harness();
    h.dog.start();
    for (let i = 0; i < 20; i++) {
      h.dog.onPong(pong(h.pings[h.pings.length - 1] as number));
      h.advance(1000);
    }
    expect(h.hung).to.deep.equal([]);
    h.dog.stop();
  });

  it('a supervisor stalled 30 s (SIGSTOP, a suspended VM) judges nothing on that time: the pings in flight are forgotten', () => {
    const h = harness();
    h.dog.start();
    h.dog.onPong(pong(1));
    h.advance(1000); // ping 2 goes out, then the supervisor stops; the pong for it waits in the pipe
    h.advance(30_000);
    expect(h.hung).to.deep.equal([]);
    expect(h.stalls).to.deep.equal([30_000]);
    expect(30_000).to.be.above(stallThresholdMs(1000));
    h.dog.onPong(pong(h.pings[h.pings.length - 1] as number)); // the bot answers the fresh ping
    for (let i = 0; i < 5; i++) {
      h.advance(1000);
      h.dog.onPong(pong(h.pings[h.pings.length - 1] as number));
    }
    expect(h.hung).to.deep.equal([]);
    h.dog.stop();
  });

  it('still finds a bot hung that stays silent after the stall', () => {
    const h = harness();
    h.dog.start();
    h.advance(30_000);
    expect(h.stalls).to.have.length(1);
    for (let i = 0; i < 3; i++) h.advance(1000);
    expect(h.hung).to.deep.equal([3000]);
    h.dog.stop();
  });
});
