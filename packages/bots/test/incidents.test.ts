/**
 * The alerts bot's incident model with a fake clock: a new message per incident, repeats edited
 * in, a quiet recovery note once the bot stayed ready, a second crash after recovery a new
 * message, requested restarts one quiet line, problems raised and cleared.
 */
import { expect } from 'chai';
import { type IncidentAction, type IncidentEvent, Incidents } from '../src/alerts/incidents.js';

describe('alert incidents', () => {
  let now: number;
  let incidents: Incidents;
  const ev = (kind: string, message: string, data?: Record<string, unknown>): IncidentEvent => ({ kind, bot: 'main', at: new Date(now).toISOString(), message, ...(data !== undefined ? { data } : {}) });
  const sends = (actions: IncidentAction[]) => actions.filter((a) => a.type === 'send');

  beforeEach(() => {
    now = Date.UTC(2026, 0, 1, 12, 0, 0);
    incidents = new Incidents({ now: () => now, healthyMs: 10_000, editEveryMs: 3000 });
  });

  it('a crash is a message that notifies; the recovery a quiet "back up after"; a crash after that a new message', () => {
    const first = incidents.add(ev('crashed', 'bot main crashed: exit code 1; restarting in 0 ms'));
    expect(first).to.deep.equal([{ type: 'send', key: first[0]?.key, text: 'bot main crashed: exit code 1; restarting in 0 ms (12:00:00 UTC)'.replace(/^/, '💥 '), quiet: false }]);
    now += 3200;
    expect(incidents.add(ev('ready', 'bot main is ready'))).to.deep.equal([]);
    now += 9000;
    expect(incidents.due(), 'not healthy for long enough yet').to.deep.equal([]);
    expect(incidents.nextDueAt()).to.equal(now + 1000);
    now += 1000;
    expect(incidents.due()).to.deep.equal([{ type: 'send', key: 'main:recovered', text: '✅ bot main back up after 3.2 s', quiet: true }]);
    now += 60_000;
    const second = sends(incidents.add(ev('crashed', 'bot main crashed: killed by SIGKILL')));
    expect(second).to.have.length(1);
    expect(second[0]).to.include({ quiet: false });
    expect(second[0]?.key).to.not.equal(first[0]?.key);
  });

  it('a crash loop is one incident: the count is edited in (throttled), and the recovery names the crashes', () => {
    const actions: IncidentAction[] = [...incidents.add(ev('crashed', 'bot main crashed: exit code 3'))];
    for (let i = 0; i < 5; i++) {
      now += 500;
      actions.push(...incidents.add(ev('ready', 'bot main is ready')));
      now += 500;
      actions.push(...incidents.add(ev('crashed', 'bot main crashed: exit code 3')));
    }
    now += 3000;
    actions.push(...incidents.due());
    expect(sends(actions)).to.have.length(1);
    const edits = actions.filter((a) => a.type === 'edit');
    expect(edits.length).to.be.within(1, 3);
    expect(edits.at(-1)?.text).to.match(/^💥 bot main crashed: exit code 3\n6 times since 12:00:00 UTC \(a crash loop\)/);
    now += 100;
    incidents.add(ev('ready', 'bot main is ready'));
    now += 10_000;
    expect(sends(incidents.due())[0]?.text).to.equal('✅ bot main back up after 8.1 s (6 crashes)');
  });

  it('errored is always a new message, even inside a crash loop', () => {
    incidents.add(ev('crashed', 'bot main crashed'));
    now += 1000;
    const errored = sends(incidents.add(ev('errored', 'bot main errored: 11 crashes within 5 min')));
    expect(errored).to.have.length(1);
    expect(errored[0]?.text).to.match(/^🛑 bot main errored/);
  });

  it('a restart somebody asked for is one quiet message once the bot is ready again, timed from the stop', () => {
    expect(incidents.add(ev('stopped', 'bot main stopped (code 0)'))).to.deep.equal([]);
    now += 400;
    expect(incidents.add(ev('restarted', 'bot main restarted (pid 9): restart requested for main', { cause: 'manual' }))).to.deep.equal([]);
    now += 800;
    expect(incidents.add(ev('ready', 'bot main is ready'))).to.deep.equal([{ type: 'send', key: 'main:restart', text: '🔄 bot main restarted on request; back up after 1.2 s', quiet: true }]);
    now += 1000;
    expect(incidents.add(ev('ready', 'bot main is ready')), 'reported once').to.deep.equal([]);
    // A bot's own /restart (exit 42) has no stop event: timed from the restart.
    incidents.add(ev('restarted', 'bot main restarted (pid 10): restart requested by the bot (exit 42)', { cause: 'restart-request' }));
    now += 2000;
    expect(sends(incidents.add(ev('ready', 'bot main is ready')))[0]?.text).to.equal('🔄 bot main restarted on request; back up after 2.0 s');
  });

  it('a hand-over the bot or a person asked for (no exit 42, no stop) says polling did not pause; a reload\'s hand-over says nothing', () => {
    // The bridge's /restart of a ready bot: a hand-over, cause restart-request.
    expect(incidents.add(ev('restarted', 'bot main restarted (pid 11): asked by the bot: /restart', { cause: 'restart-request', handOver: true }))).to.deep.equal([]);
    now += 1500;
    expect(incidents.add(ev('ready', 'bot main is ready'))).to.deep.equal([
      { type: 'send', key: 'main:restart', text: '🔄 bot main restarted on request: a fresh process took over without a pause in polling, ready after 1.5 s', quiet: true },
    ]);
    // The dashboard's Restart: the same, cause manual; an old stop is not what it is timed from.
    incidents.add(ev('stopped', 'bot main stopped (code 0)'));
    now += 5000;
    incidents.add(ev('restarted', 'bot main restarted (pid 12): restart requested for main', { cause: 'manual', handOver: true }));
    now += 700;
    expect(sends(incidents.add(ev('ready', 'bot main is ready')))[0]?.text).to.equal('🔄 bot main restarted on request: a fresh process took over without a pause in polling, ready after 0.7 s');
    // A reload's hand-over: its summary is the reload's; nothing here.
    incidents.add(ev('restarted', 'bot main restarted (pid 13): reload', { cause: 'reload', handOver: true }));
    now += 900;
    expect(incidents.add(ev('ready', 'bot main is ready'))).to.deep.equal([]);
  });

  it('a problem raised is a new message, the same again an edit, another one a new message; cleared is a quiet note', () => {
    const raised = sends(incidents.add(ev('problem', 'bot main: 409 conflicts', { problem: '409 conflicts' })));
    expect(raised[0]).to.include({ quiet: false });
    now += 5000;
    const again = incidents.add(ev('problem', 'bot main: 409 conflicts', { problem: '409 conflicts' }));
    expect(sends(again)).to.deep.equal([]);
    expect(again.filter((a) => a.type === 'edit')[0]?.text).to.match(/raised 2 times since 12:00:00 UTC/);
    expect(sends(incidents.add(ev('problem', 'bot main: the token was refused', { problem: 'the token was refused' })))).to.have.length(1);
    now += 60_000;
    expect(sends(incidents.add(ev('problem-cleared', 'bot main: problem cleared')))).to.deep.equal([
      { type: 'send', key: 'main:cleared', text: '✅ bot main: its problem cleared after 1 min 0 s', quiet: true },
    ]);
  });
});
