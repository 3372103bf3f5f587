import { expect } from 'chai';
import { AlertCoalescer } from '../src/alerts/alert-coalescer.js';
import { ALERT_KINDS } from '../src/alerts/alerts-bot.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 23, 3, 0, s)).toISOString();

describe('alert coalescer', () => {
  it('turns a crash loop into one message and throttled edits with the count', () => {
    let now = 0;
    const c = new AlertCoalescer({ now: () => now, editEveryMs: 3000 });
    const crash = (s: number) => ({ kind: 'crashed', bot: 'main', at: at(s), message: 'bot main crashed: exit code 1' });
    const first = c.add(crash(0));
    expect(first).to.have.length(1);
    expect(first[0]).to.include({ type: 'send' });
    expect(first[0]?.text).to.match(/^💥 bot main crashed: exit code 1 \(03:00:00 UTC\)$/);
    const actions = [];
    for (let i = 1; i <= 100; i++) {
      now += 100;
      actions.push(...c.add(crash(i % 60)));
      actions.push(...c.due());
    }
    now += 5000;
    actions.push(...c.due());
    expect(actions.every((a) => a.type === 'edit')).to.equal(true);
    expect(actions.length).to.be.within(3, 5); // 10 s of events, one edit per 3 s
    expect(actions.at(-1)?.text).to.match(/×101 since 03:00:00 UTC/);
  });

  it('keeps kinds and bots apart, and starts a new message after a quiet period', () => {
    let now = 0;
    const c = new AlertCoalescer({ now: () => now, quietMs: 60_000 });
    expect(c.add({ kind: 'crashed', bot: 'a', at: at(0), message: 'a crashed' })[0]?.type).to.equal('send');
    expect(c.add({ kind: 'crashed', bot: 'b', at: at(1), message: 'b crashed' })[0]?.type).to.equal('send');
    expect(c.add({ kind: 'errored', bot: 'a', at: at(2), message: 'a errored' })[0]?.type).to.equal('send');
    now += 61_000;
    expect(c.add({ kind: 'crashed', bot: 'a', at: at(3), message: 'a crashed' })[0]?.type).to.equal('send');
  });

  it("sends a bot's problem with its sentence, edits it while it holds, notes its clearing briefly, and a problem that comes back is a new message", () => {
    let now = 0;
    const c = new AlertCoalescer({ now: () => now, editEveryMs: 3000 });
    const sentence = 'another process outside this supervisor is polling this token: 3 conflicts in the last 7 s; stop it';
    const problem = (s: number, text = sentence) => ({ kind: 'problem', bot: 'main', at: at(s), message: `bot main: ${text}` });
    const raised = c.add(problem(0));
    expect(raised[0]).to.include({ type: 'send' });
    expect(raised[0]?.text).to.equal(`⚠️ bot main: ${sentence} (03:00:00 UTC)`);
    now += 5000;
    expect(c.add(problem(5, sentence.replace('3 conflicts in the last 7 s', '9 conflicts in the last 65 s')))[0]).to.include({ type: 'edit' });
    now += 1000;
    const cleared = c.add({ kind: 'problem-cleared', bot: 'main', at: at(6), message: `bot main: problem cleared (${sentence})` });
    expect(cleared).to.deep.equal([{ type: 'send', key: 'main:problem-cleared', text: '🆗 bot main: the problem has cleared (03:00:06 UTC)' }]);
    now += 1000;
    expect(c.add(problem(7))[0], 'the problem is back: a new message').to.include({ type: 'send' });
  });

  it('says when the next edit is due', () => {
    let now = 0;
    const c = new AlertCoalescer({ now: () => now, editEveryMs: 3000 });
    c.add({ kind: 'hung', bot: 'a', at: at(0), message: 'a hung' });
    expect(c.nextDueAt()).to.equal(undefined);
    now = 1000;
    expect(c.add({ kind: 'hung', bot: 'a', at: at(1), message: 'a hung' })).to.deep.equal([]);
    expect(c.nextDueAt()).to.equal(3000);
    now = 3000;
    expect(c.due()[0]?.text).to.include('×2');
  });

  it('a reload rolled back is an alert of its own, with its sentence', () => {
    expect(ALERT_KINDS.has('reload-failed')).to.equal(true);
    const c = new AlertCoalescer({ now: () => 0 });
    const message = 'the reload of main was rolled back: broken on purpose; the old process (pid 42) keeps running';
    expect(c.add({ kind: 'reload-failed', bot: 'main', at: at(0), message })[0]?.text).to.equal(`↩️ ${message} (03:00:00 UTC)`);
  });

  it('a change of active node in cluster mode is an alert of its own', () => {
    expect(ALERT_KINDS.has('cluster-active')).to.equal(true);
    const c = new AlertCoalescer({ now: () => 0 });
    const message = 'bot main: node host-b took the cluster lease (epoch 2), from node host-a; it polls now';
    expect(c.add({ kind: 'cluster-active', bot: 'main', at: at(0), message })[0]?.text).to.equal(`🔀 ${message} (03:00:00 UTC)`);
  });
});
