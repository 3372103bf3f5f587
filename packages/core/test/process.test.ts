import { exited, ProcessTracker, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import {
  descendants,
  findByCookie,
  isAlive,
  killTree,
  type ProcessRef,
  parseProcStat,
  readProcess,
  refOf,
  selfRef,
} from '../src/index.js';

describe('process identity', () => {
  const tracker = new ProcessTracker();
  afterEach(() => tracker.killAll());

  it('parses /proc/<pid>/stat even when the command name holds spaces and parentheses', () => {
    const line = '4242 (we(ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 12345 1000 10 18446744073709551615';
    const info = parseProcStat(4242, line);
    expect(info).to.include({ pid: 4242, ppid: 1, pgid: 4242, state: 'S', command: 'we(ird) name' });
  });

  it('names a live process by pid and start time, stable across reads', () => {
    const child = tracker.spawn('sleep', ['30']);
    const a = refOf(child.pid as number);
    const b = refOf(child.pid as number);
    expect(a).to.deep.equal(b);
    expect(isAlive(a as ProcessRef)).to.equal(true);
    expect(selfRef().pid).to.equal(process.pid);
  });

  it('is not alive once exited, and not alive with a forged start time', async () => {
    const child = tracker.spawn('sleep', ['30']);
    const ref = refOf(child.pid as number) as ProcessRef;
    expect(isAlive({ pid: ref.pid, startTime: ref.startTime + 10_000 })).to.equal(false);
    child.kill('SIGKILL');
    await exited(child);
    await waitFor(() => !isAlive(ref), { what: 'the killed process to be reported dead' });
  });

  it('reports a zombie as dead', async () => {
    // `exec sleep` replaces the shell, so nobody ever reaps the short-lived child: it stays a zombie.
    const parent = tracker.spawn('bash', ['-c', 'sleep 0.05 & exec sleep 30']);
    const zombie = await waitFor(() => descendants(parent.pid as number).find((p) => p.state === 'Z'), { what: 'a zombie grandchild' });
    expect(readProcess(zombie.pid)?.state).to.equal('Z');
    expect(isAlive({ pid: zombie.pid, startTime: zombie.startTime })).to.equal(false);
    expect(refOf(zombie.pid)).to.equal(undefined);
  });

  it('lists descendants from one snapshot, grandchildren included', async () => {
    const parent = tracker.spawn('bash', ['-c', 'sleep 30 & (sleep 31 & wait) & wait']);
    const found = await waitFor(() => {
      const d = descendants(parent.pid as number);
      return d.filter((p) => p.command === 'sleep').length === 2 ? d : undefined;
    }, { what: 'two sleeping descendants' });
    expect(found.every((p) => p.pid !== parent.pid)).to.equal(true);
  });
});

describe('killTree', function () {
  this.timeout(30_000);
  const tracker = new ProcessTracker();
  afterEach(() => tracker.killAll());

  it('kills a whole hostile tree: nested sleeps, setsid, SIGTERM-ignoring, and a double-forked daemon adopted by init', async () => {
    const script = [
      'sleep 300 &',
      '( sleep 301 & wait ) &',
      'setsid sleep 302 &',
      "( trap '' TERM; sleep 303 & wait ) &",
      '( setsid sleep 304 & ) ;', // the subshell exits at once: sleep 304 is adopted by init
      'wait',
    ].join('\n');
    const root = tracker.spawn('bash', ['-c', script], { detached: true });
    const rootRef = refOf(root.pid as number) as ProcessRef;
    const sleeps = await waitFor(() => {
      const s = findByCookie(tracker.cookie).filter((p) => p.command === 'sleep');
      return s.length === 5 ? s : undefined;
    }, { what: 'five sleeps carrying the tree cookie' });
    const daemon = sleeps.find((p) => !descendants(rootRef.pid).some((d) => d.pid === p.pid));
    expect(daemon, 'the double-forked sleep has left the tree').to.not.equal(undefined);

    const result = await killTree(rootRef, { graceMs: 500, deadlineMs: 10_000, cookie: tracker.cookie });
    expect(result.survivors).to.deep.equal([]);
    for (const p of sleeps) expect(isAlive(p), `${p.pid} ${p.command}`).to.equal(false);
    expect(isAlive(rootRef)).to.equal(false);
    expect(result.killed.map((k) => k.pid)).to.include.members(sleeps.map((s) => s.pid));
  });

  it('SIGKILLs a process that ignores SIGTERM after the grace period', async () => {
    const child = tracker.spawn('bash', ['-c', "trap '' TERM; while true; do sleep 0.1; done"]);
    const ref = refOf(child.pid as number) as ProcessRef;
    await waitFor(() => descendants(ref.pid).length > 0, { what: 'the loop to start' });
    const started = Date.now();
    const result = await killTree(ref, { graceMs: 300, deadlineMs: 5000 });
    expect(result.survivors).to.deep.equal([]);
    expect(Date.now() - started).to.be.at.least(250);
    expect(await exited(child)).to.equal('SIGKILL');
  });

  it('never signals a process whose start time does not match the ref', async () => {
    const child = tracker.spawn('sleep', ['30']);
    const real = refOf(child.pid as number) as ProcessRef;
    const forged = { pid: real.pid, startTime: real.startTime - 60_000 };
    const result = await killTree(forged, { graceMs: 100, deadlineMs: 500 });
    expect(result).to.deep.equal({ killed: [], survivors: [] });
    expect(isAlive(real)).to.equal(true);
    expect(child.exitCode).to.equal(null);
  });

  it('returns at once for a process that is already gone', async () => {
    const child = tracker.spawn('true', []);
    const ref = { pid: child.pid as number, startTime: 1 };
    await exited(child);
    const result = await killTree(ref, { graceMs: 5000 });
    expect(result).to.deep.equal({ killed: [], survivors: [] });
  });
});
