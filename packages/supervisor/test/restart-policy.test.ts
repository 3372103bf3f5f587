import { expect } from 'chai';
import { BotStateMachine, RestartPolicy } from '../src/index.js';

describe('restart policy', () => {
  const base = { initialMs: 250, maxMs: 30_000, resetAfterMs: 60_000, budget: 10, windowMs: 300_000 };

  it('restarts a stable bot at once after its first crash, then backs off 250 ms × 2 up to 30 s', () => {
    let now = 0;
    const p = new RestartPolicy({ ...base, now: () => now, random: () => 0.5 });
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      now += 1000;
      const v = p.onCrash();
      if (v.giveUp) throw new Error('budget spent too early');
      delays.push(v.delayMs);
    }
    expect(delays).to.deep.equal([0, 250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('starts over after 60 s of ready', () => {
    let now = 0;
    const p = new RestartPolicy({ ...base, now: () => now, random: () => 0.5 });
    p.onCrash();
    p.onCrash();
    p.onReady();
    now += 60_000;
    expect(p.onCrash()).to.deep.include({ delayMs: 0 });
  });

  it('gives up after more than 10 crashes in 5 minutes, counted over the whole lifetime', () => {
    let now = 0;
    const p = new RestartPolicy({ ...base, now: () => now, random: () => 0.5 });
    for (let i = 0; i < 10; i++) {
      now += 25_000; // one crash every 25 s, each after a stretch of ready: PM2's min_uptime would never see a loop
      p.onReady();
      expect(p.onCrash().giveUp).to.equal(false);
    }
    now += 25_000;
    expect(p.onCrash()).to.deep.include({ giveUp: true, crashesInWindow: 11 });
  });

  it('applies ±20 % jitter', () => {
    const low = new RestartPolicy({ ...base, random: () => 0 });
    const high = new RestartPolicy({ ...base, random: () => 0.9999 });
    low.onCrash();
    high.onCrash();
    expect(low.onCrash()).to.deep.include({ delayMs: 200 });
    expect((high.onCrash() as { delayMs: number }).delayMs).to.be.within(299, 300);
  });
});

describe('bot state machine', () => {
  it('allows the planned transitions and refuses the others, naming them', () => {
    const changes: string[] = [];
    const m = new BotStateMachine((c) => changes.push(`${c.from}>${c.to}`));
    m.to({ kind: 'starting' }, 'start');
    m.to({ kind: 'ready' }, 'ipc');
    m.to({ kind: 'backoff' }, 'crash');
    m.to({ kind: 'starting' }, 'timer');
    m.to({ kind: 'errored' }, 'exit 78');
    expect(() => m.to({ kind: 'ready' }, 'late ipc')).to.throw('illegal bot state transition errored → ready (late ipc)');
    m.to({ kind: 'starting' }, 'botvisor restart');
    expect(changes).to.deep.equal(['stopped>starting', 'starting>ready', 'ready>backoff', 'backoff>starting', 'starting>errored', 'errored>starting']);
    expect(() => new BotStateMachine().to({ kind: 'ready' }, 'x')).to.throw(/stopped → ready/);
  });
});
