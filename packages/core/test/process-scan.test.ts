/**
 * ProcessScan: one look at the process table and at the tree cookies, shared within `maxAgeMs` by
 * every bot's rescan (issue 18), answering as snapshotProcesses and findByCookie do.
 */
import { ProcessTracker, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { findByCookie, newTreeCookie, ProcessScan, treeCookieIn } from '../src/index.js';

describe('ProcessScan', function () {
  this.timeout(20_000);
  const tracker = new ProcessTracker();
  afterEach(() => tracker.killAll());

  it('reads the tree cookie of an environ block, first, in the middle or absent', () => {
    expect(treeCookieIn(Buffer.from('BOTVISOR_TREE=abc.main\0PATH=/bin\0'))).to.equal('abc.main');
    expect(treeCookieIn(Buffer.from('PATH=/bin\0BOTVISOR_TREE=abc.r2\0HOME=/root'))).to.equal('abc.r2');
    expect(treeCookieIn(Buffer.from('PATH=/bin\0BOTVISOR_TREE=last'))).to.equal('last');
    expect(treeCookieIn(Buffer.from('XBOTVISOR_TREE=no\0BOTVISOR_TREEX=no\0PATH=/bin\0'))).to.equal(undefined);
    expect(treeCookieIn(Buffer.alloc(0))).to.equal(undefined);
  });

  it('finds what carries a cookie as findByCookie does, and nothing for another cookie', async function () {
    if (process.platform !== 'linux') this.skip();
    const parent = tracker.spawn('bash', ['-c', 'sleep 30 & exec sleep 31']);
    await waitFor(() => findByCookie(tracker.cookie).length >= 2, { what: 'both sleeps' });
    const scan = new ProcessScan(() => 0);
    const pids = (list: { pid: number }[]): number[] => list.map((p) => p.pid).sort((a, b) => a - b);
    expect(pids(scan.withCookie(tracker.cookie))).to.deep.equal(pids(findByCookie(tracker.cookie)));
    expect(scan.withCookie(tracker.cookie).map((p) => p.pid)).to.include(parent.pid);
    expect(scan.withCookie(newTreeCookie())).to.deep.equal([]);
    expect(scan.table().some((p) => p.pid === parent.pid)).to.equal(true);
  });

  it('answers from its last look for maxAgeMs, then looks again', async function () {
    if (process.platform !== 'linux') this.skip();
    let now = 1_000;
    const scan = new ProcessScan(
      () => 2_500,
      () => now,
    );
    const cookie = tracker.cookie; // the tracker gives what it spawns its own cookie
    expect(scan.withCookie(cookie)).to.deep.equal([]);
    const tableBefore = scan.table();
    const child = tracker.spawn('sleep', ['30']);
    await waitFor(() => findByCookie(cookie).length === 1, { what: 'the sleep' });
    now += 2_500; // still within the look's age: the same answers, no new walk of /proc
    expect(scan.withCookie(cookie)).to.deep.equal([]);
    expect(scan.table()).to.equal(tableBefore);
    now += 1; // older than maxAgeMs: a fresh look
    expect(scan.withCookie(cookie).map((p) => p.pid)).to.deep.equal([child.pid]);
    expect(scan.table()).not.to.equal(tableBefore);
  });
});
