import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { descendants, isAlive, isDeadState, type ProcessRef, pollingLockOwner, refOf } from '@botvisor/core';
import { exited, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { controlRequest, controlSocketPath, type StatusReport } from '../src/index.js';
import { DAEMON, fixtureBot, type Installation, install, newToken } from './support/installation.js';

const USER = { id: 1001, first_name: 'Ada' };

describe('supervisor daemon process', function () {
  this.timeout(120_000);
  const bed = useTestbed();

  function daemon(inst: Installation): { child: ChildProcess; stderr: () => string } {
    const child = bed.tracker.spawn(process.execPath, [DAEMON, '--config', inst.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    return { child, stderr: () => err };
  }

  async function pollingStarted(token: string): Promise<void> {
    await waitFor(async () => (await bed.sim.client.stats(token)).pendingPollers === 1, { timeoutMs: 20_000, what: 'the main bot to poll' });
  }

  it('kill -9 of the supervisor during a CLI job: the bots exit, and the next start kills the leftover job and takes the lock at once', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token), fixtureBot('helper', token)], { stopGraceMs: 2000 });
    const first = daemon(inst);
    await pollingStarted(token);
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'job' });
    const reply = await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: '^job pid' });
    const job = refOf(Number(reply.text?.split(' ')[2])) as ProcessRef;
    const bots = descendants(first.child.pid as number).filter((p) => p.command === 'node' || p.command.startsWith('node'));
    expect(bots.length).to.be.at.least(2);

    first.child.kill('SIGKILL');
    await exited(first.child);
    for (const b of bots) await waitFor(() => !isAlive(b), { timeoutMs: 15_000, what: `bot pid ${b.pid} to exit after losing its supervisor` });
    expect(isAlive(job), 'the detached CLI job outlived its bot').to.equal(true);

    const started = Date.now();
    const second = daemon(inst);
    await waitFor(() => pollingLockOwner(inst.locksDir, token)?.pid === second.child.pid, { timeoutMs: 10_000, what: 'the new supervisor to own the lock' });
    const lockTakenAfterMs = Date.now() - started;
    expect(isAlive(job), 'the leftover job is reaped before the lock is taken').to.equal(false);
    expect(lockTakenAfterMs).to.be.below(3000); // node start-up included; the lock itself is taken without waiting
    await pollingStarted(token);
    const log = readFileSync(path.join(inst.logDir, 'supervisor.log'), 'utf8');
    expect(log).to.match(/reaped \d+ process\(es\) left running by the previous run/);
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).to.equal(0);
  });

  it('SIGTERM stops every bot, releases every lock and leaves no process of its tree', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token), fixtureBot('helper', token)], { stopGraceMs: 2000 });
    const d = daemon(inst);
    await pollingStarted(token);
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'job' });
    const reply = await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: '^job pid' });
    const job = refOf(Number(reply.text?.split(' ')[2])) as ProcessRef;
    const tree = descendants(d.child.pid as number);
    d.child.kill('SIGTERM');
    expect(await exited(d.child)).to.equal(0);
    for (const p of tree) expect(isAlive(p) && !isDeadState(p.state), `${p.pid} ${p.command} left alive`).to.equal(false);
    expect(isAlive(job)).to.equal(false);
    expect(readdirSync(inst.locksDir).filter((f) => f.endsWith('.lock'))).to.deep.equal([]);
    expect(existsSync(path.join(inst.dataDir, 'supervisor', 'supervisor.lock'))).to.equal(false);
  });

  it('a second daemon on the same data dir exits 1 with "botvisor is already running (pid N, since …)"', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)]);
    const first = daemon(inst);
    await pollingStarted(token);
    const second = daemon(inst);
    expect(await exited(second.child)).to.equal(1);
    expect(second.stderr()).to.match(new RegExp(`botvisor is already running \\(pid ${first.child.pid}, since \\d{4}-`));
  });

  it('paused (SIGSTOP) for longer than hungAfterMs, then resumed: the watchdog sees its own stall and kills nothing', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token), fixtureBot('helper', newToken())], { pingIntervalMs: 200, hungAfterMs: 1000, stopGraceMs: 2000 });
    const d = daemon(inst);
    await pollingStarted(token);
    const socket = controlSocketPath(inst.dataDir);
    const ready = async (): Promise<StatusReport> => {
      const s = await controlRequest<StatusReport>(socket, { cmd: 'status' }, 5000);
      return s.bots.every((b) => b.state === 'ready') ? s : Promise.reject(new Error('not ready'));
    };
    await waitFor(() => ready().then(() => true, () => false), { timeoutMs: 20_000, what: 'both bots ready' });
    const before = await ready();
    process.kill(d.child.pid as number, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 2500)); // two and a half times hungAfterMs
    process.kill(d.child.pid as number, 'SIGCONT');
    await new Promise((r) => setTimeout(r, 2000)); // ten watchdog ticks after waking, twice hungAfterMs
    const after = await ready();
    expect(after.bots.map((b) => [b.name, b.pid, b.restarts])).to.deep.equal(before.bots.map((b) => [b.name, b.pid, 0]));
    const events = await controlRequest<Array<{ kind: string }>>(socket, { cmd: 'events' }, 5000);
    expect(events.filter((e) => e.kind === 'hung')).to.deep.equal([]);
    const log = readFileSync(path.join(inst.logDir, 'supervisor.log'), 'utf8');
    expect(log).to.include('the supervisor itself was stalled');
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'echo', args: 'awake' });
    expect((await bed.sim.client.waitForMessage(token, USER.id, { after: cursor })).text).to.equal('echo: awake');
    d.child.kill('SIGTERM');
    expect(await exited(d.child)).to.equal(0);
  });
});
