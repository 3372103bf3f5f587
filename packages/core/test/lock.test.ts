import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessTracker, TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import {
  acquireOwnedLock,
  acquirePollingLock,
  createLogger,
  defaultLocksDir,
  ensureLocksDir,
  LockHeldError,
  pollingLockOwner,
  pollingLockPath,
  tokenHash,
  UnsafeLocksDirError,
} from '../src/index.js';

const CLIENT = fileURLToPath(new URL('./fixtures/lock-client.js', import.meta.url));
const TOKEN = '123456789:AAEexampleexampleexampleexample_abcd';

type Reply = { op: string; pid: number; message?: string; ownerPid?: number };

/** A lock-client process and a way to await its next reply. */
function client(tracker: ProcessTracker): { child: ChildProcess; next: () => Promise<Reply> } {
  const child = tracker.fork(CLIENT, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const inbox: Reply[] = [];
  const waiters: Array<(r: Reply) => void> = [];
  child.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m as Reply);
    else inbox.push(m as Reply);
  });
  const next = () => new Promise<Reply>((resolve) => {
    const r = inbox.shift();
    if (r) resolve(r);
    else waiters.push(resolve);
  });
  return { child, next };
}

describe('polling lock', function () {
  this.timeout(60_000);
  const tracker = new ProcessTracker();
  const temp = new TempDirs();
  afterEach(async () => {
    await tracker.killAll();
    temp.removeAll();
  });

  it('lives at <locksDir>/<16 hex of sha256(token)>.lock and never writes the token', async () => {
    const locksDir = temp.make();
    expect(tokenHash(TOKEN)).to.match(/^[0-9a-f]{16}$/);
    expect(pollingLockPath(locksDir, TOKEN)).to.equal(`${locksDir}/${tokenHash(TOKEN)}.lock`);
    const held = await acquirePollingLock({ locksDir, token: TOKEN, role: 'supervisor' });
    expect(pollingLockOwner(locksDir, TOKEN)).to.include({ pid: process.pid, role: 'supervisor' });
    await held.release();
    expect(pollingLockOwner(locksDir, TOKEN)).to.equal(undefined);
  });

  it('two processes racing for one token 50 times: exactly one wins every time', async () => {
    const locksDir = temp.make();
    const a = client(tracker);
    const b = client(tracker);
    await Promise.all([a.next(), b.next()]);
    for (let round = 0; round < 50; round++) {
      const acquire = { op: 'acquire', locksDir, token: TOKEN, role: 'main', timeoutMs: 150 };
      a.child.send(acquire);
      b.child.send(acquire);
      const [ra, rb] = await Promise.all([a.next(), b.next()]);
      const winners = [ra, rb].filter((r) => r.op === 'acquired');
      expect(winners, `round ${round}: ${JSON.stringify([ra, rb])}`).to.have.length(1);
      const winner = winners[0] as Reply;
      const loser = (winner === ra ? rb : ra) as Reply;
      expect(loser.ownerPid).to.equal(winner.pid);
      const w = winner === ra ? a : b;
      w.child.send({ op: 'release' });
      expect((await w.next()).op).to.equal('released');
    }
  });

  it('takes over the lock of a holder killed with SIGKILL in under a second', async () => {
    const locksDir = temp.make();
    const holder = client(tracker);
    await holder.next();
    holder.child.send({ op: 'acquire', locksDir, token: TOKEN, role: 'main', timeoutMs: 1000 });
    expect((await holder.next()).op).to.equal('acquired');
    holder.child.kill('SIGKILL');
    await waitFor(() => holder.child.exitCode !== null || holder.child.signalCode !== null, { what: 'the holder to die' });
    const started = Date.now();
    const held = await acquirePollingLock({ locksDir, token: TOKEN, role: 'supervisor', timeoutMs: 5000 });
    expect(Date.now() - started).to.be.below(1000);
    expect(pollingLockOwner(locksDir, TOKEN)?.pid).to.equal(process.pid);
    await held.release();
  });

  it('times out with an error naming the holder pid and role', async () => {
    const locksDir = temp.make();
    const holder = client(tracker);
    await holder.next();
    holder.child.send({ op: 'acquire', locksDir, token: TOKEN, role: 'supervisor', timeoutMs: 1000 });
    const { pid } = await holder.next();
    const err = await acquirePollingLock({ locksDir, token: TOKEN, role: 'main', timeoutMs: 300 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(LockHeldError);
    expect((err as LockHeldError).owner?.pid).to.equal(pid);
    expect((err as Error).message).to.match(new RegExp(`^Telegram polling lock for this token is held by supervisor pid ${pid} since \\d{4}-`));
    expect((err as Error).message).to.not.include(TOKEN);
  });

  it('logs a WARNING when it removes a dead owner\'s lock', async () => {
    const locksDir = temp.make();
    const logDir = temp.make();
    const holder = client(tracker);
    await holder.next();
    holder.child.send({ op: 'acquire', locksDir, token: TOKEN, role: 'main', timeoutMs: 1000 });
    await holder.next();
    holder.child.kill('SIGKILL');
    await waitFor(() => holder.child.signalCode !== null, { what: 'the holder to die' });
    const logger = createLogger({ proc: 'locktest', logDir, console: 'never' });
    const held = await acquirePollingLock({ locksDir, token: TOKEN, role: 'supervisor', logger });
    await held.release();
    await logger.close();
    const lines = readFileSync(`${logDir}/locktest.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.level === 'warning' && String(l.msg).includes('stale lock'))).to.equal(true);
  });

  it('reclaims at once a lock whose holder died before writing its owner record', async () => {
    const locksDir = temp.make();
    const lockPath = pollingLockPath(locksDir, TOKEN);
    mkdirSync(lockPath, { recursive: true }); // what a holder killed right after taking the lock leaves
    const past = new Date(Date.now() - 3000);
    utimesSync(lockPath, past, past);
    const started = Date.now();
    const held = await acquirePollingLock({ locksDir, token: TOKEN, role: 'supervisor', timeoutMs: 5000 });
    expect(Date.now() - started).to.be.below(1000);
    await held.release();
  });

  it('does not take a fresh lock that has no owner record yet (its acquirer is writing it)', async () => {
    const locksDir = temp.make();
    mkdirSync(pollingLockPath(locksDir, TOKEN), { recursive: true });
    const err = await acquirePollingLock({ locksDir, token: TOKEN, role: 'main', timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(LockHeldError);
    expect((err as Error).message).to.include('has not written its owner record yet');
  });

  it('reports a compromised lock as an ERROR and to the holder', async () => {
    const locksDir = temp.make();
    let compromised: Error | undefined;
    const held = await acquireOwnedLock({
      lockPath: pollingLockPath(locksDir, TOKEN),
      role: 'main',
      staleMs: 2000,
      onCompromised: (err) => {
        compromised = err;
      },
    });
    rmSync(held.lockPath, { recursive: true, force: true });
    await waitFor(() => compromised, { timeoutMs: 10_000, what: 'onCompromised after the lock folder was removed' });
    expect(held.compromised).to.equal(true);
    await held.release();
  });

  it('names the holder\'s config file in its owner record and in the refusal', async () => {
    const locksDir = temp.make();
    const held = await acquirePollingLock({ locksDir, token: TOKEN, role: 'supervisor', config: '/srv/a/botvisor.json' });
    expect(pollingLockOwner(locksDir, TOKEN)).to.include({ pid: process.pid, config: '/srv/a/botvisor.json' });
    const err = await acquirePollingLock({ locksDir, token: TOKEN, role: 'supervisor', config: '/srv/b/botvisor.json', timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(LockHeldError);
    expect((err as Error).message).to.include(`held by supervisor pid ${process.pid} (config /srv/a/botvisor.json)`);
    await held.release();
  });

  it('never takes a live holder\'s lock as stale, however old its mtime (the holder may only be paused)', async () => {
    const locksDir = temp.make();
    const holder = client(tracker);
    await holder.next();
    holder.child.send({ op: 'acquire', locksDir, token: TOKEN, role: 'supervisor', timeoutMs: 1000 });
    expect((await holder.next()).op).to.equal('acquired');
    holder.child.kill('SIGSTOP');
    try {
      const past = new Date(Date.now() - 60_000); // what a holder paused for a minute leaves
      utimesSync(pollingLockPath(locksDir, TOKEN), past, past);
      const err = await acquirePollingLock({ locksDir, token: TOKEN, role: 'supervisor', timeoutMs: 300 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(LockHeldError);
      expect((err as LockHeldError).owner?.pid).to.equal(holder.child.pid);
    } finally {
      holder.child.kill('SIGCONT');
    }
  });
});

describe('the machine-wide lock directory', () => {
  const temp = new TempDirs();
  afterEach(() => temp.removeAll());

  it('is /tmp/botvisor-<uid>/locks whatever the session (a systemd service has no XDG_RUNTIME_DIR, a login shell has one)', () => {
    const uid = process.getuid?.() ?? 0;
    expect(defaultLocksDir()).to.equal(`/tmp/botvisor-${uid}/locks`);
    expect(defaultLocksDir(1234)).to.equal('/tmp/botvisor-1234/locks');
  });

  it('is created 0700 (the real /tmp/botvisor-<uid>/locks too) and is private to us', () => {
    const uid = process.getuid?.() ?? 0;
    const fallback = defaultLocksDir();
    ensureLocksDir(fallback);
    for (const dir of [fallback, path.dirname(fallback)]) {
      const st = statSync(dir);
      expect(st.uid, dir).to.equal(uid);
      expect(st.mode & 0o077, `${dir} mode ${(st.mode & 0o777).toString(8)}`).to.equal(0);
    }
    const nested = path.join(temp.make(), 'a', 'locks');
    ensureLocksDir(nested);
    expect(statSync(nested).mode & 0o777).to.equal(0o700);
    expect(statSync(path.dirname(nested)).mode & 0o777).to.equal(0o700);
  });

  it('refuses a directory others can write to, or one another user owns (a squatter in /tmp)', () => {
    const root = temp.make();
    const shared = path.join(root, 'shared', 'locks');
    mkdirSync(shared, { recursive: true });
    chmodSync(path.join(root, 'shared'), 0o777);
    expect(() => ensureLocksDir(shared)).to.throw(UnsafeLocksDirError, /others can write to it/);
    chmodSync(path.join(root, 'shared'), 0o700);
    ensureLocksDir(shared);
    const squatted = path.join(root, 'squatted', 'locks');
    mkdirSync(squatted, { recursive: true, mode: 0o700 });
    chownSync(path.join(root, 'squatted'), 4242, 4242);
    const err = (() => {
      try {
        ensureLocksDir(squatted); // a parent owned by 4242 (neither us nor root) is refused; chown needs root, as the suite runs
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(err).to.be.instanceOf(UnsafeLocksDirError);
    expect((err as Error).message).to.include('owned by uid 4242');
  });
});
