import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, loadConfig, tokenHash } from '@botvisor/core';
import { exited, startPostgres, type TestPostgres, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import pg from 'pg';
import { type ManagedBot, Supervisor } from '../src/index.js';
import { DAEMON, fixtureBot, type Installation, install, newToken } from './support/installation.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const USER = { id: 1001, first_name: 'Ada' };
const FAST = { pingIntervalMs: 500, hungAfterMs: 3000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 100, stopGraceMs: 2000 };
const LEASE_MS = 3000;
const RENEW_MS = 500;
/** Trust authentication accepts any password; this one must never reach a log. */
const PASSWORD = 'pg-secret-do-not-log-4711';

describe('cluster: two nodes, one token, a lease in PostgreSQL', function () {
  this.timeout(120_000);
  const bed = useTestbed();
  let db: TestPostgres;

  before(async function () {
    this.timeout(60_000);
    db = await startPostgres();
  });
  after(() => db?.stop());

  /** A node: its own installation (data dir, and its own lock folder so the machine-wide lock plays no part), the same bot and token as the other node. */
  function node(name: string, token: string): Installation {
    return install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST, { config: { cluster: { postgresEnv: 'BOTVISOR_TEST_PG', node: name, leaseMs: LEASE_MS, renewMs: RENEW_MS } } });
  }

  async function startNode(inst: Installation, postgres: string): Promise<Supervisor> {
    const env = { ...process.env, BOTVISOR_TEST_PG: postgres };
    const config = loadConfig(inst.configFile, { env });
    const logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never', level: 'debug' });
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger, env });
    bed.onCleanup(() => sup.stop());
    return sup;
  }

  function daemonNode(inst: Installation, postgres: string): ChildProcess {
    return bed.tracker.spawn(process.execPath, [DAEMON, '--config', inst.configFile], { stdio: 'ignore', env: { ...process.env, BOTVISOR_TEST_PG: postgres } });
  }

  async function lease(sup: Supervisor) {
    return (await sup.status()).supervisor.locks[0]?.cluster;
  }

  async function echoes(token: string, text: string): Promise<void> {
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'echo', args: text });
    expect((await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, timeoutMs: 15_000 })).text).to.equal(`echo: ${text}`);
  }

  function isRunning(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  function logsOf(inst: Installation): string {
    return readdirSync(inst.logDir).map((f) => readFileSync(path.join(inst.logDir, f), 'utf8')).join('\n');
  }

  it('kill -9 of the active supervisor: the standby node polls within leaseMs + 2 s, never two pollers at once', async () => {
    const token = newToken();
    const a = node('host-a', token);
    const b = node('host-b', token);
    const active = daemonNode(a, db.url(PASSWORD));
    await waitFor(async () => (await bed.sim.client.stats(token)).pendingPollers === 1, { timeoutMs: 20_000, what: 'node host-a to poll' });

    const sup = await startNode(b, db.url(PASSWORD));
    const bot = sup.bots.get('main') as ManagedBot;
    await waitFor(async () => (await lease(sup))?.holder === 'host-a', { timeoutMs: 10_000, what: 'host-b to see host-a holding the lease' });
    expect(await lease(sup)).to.deep.include({ node: 'host-b', role: 'standby', holder: 'host-a', epoch: 1, error: null });
    expect((await lease(sup))?.leaseExpiresInMs).to.be.within(0, LEASE_MS);
    expect(bot.state).to.equal('waiting');
    expect(bot.status().problem).to.equal("standby: node host-a holds this token's cluster lease (epoch 1); this node takes over when it lapses");
    await new Promise((r) => setTimeout(r, 2 * RENEW_MS)); // several renewals and tries
    await echoes(token, 'from host-a');

    active.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await exited(active)).to.equal('SIGKILL');
    await waitFor(() => bot.state === 'ready', { timeoutMs: LEASE_MS + 5000, intervalMs: 20, what: 'host-b to take over' });
    await waitFor(async () => (await bed.sim.client.stats(token)).pendingPollers === 1, { timeoutMs: 5000, intervalMs: 20, what: "host-b's bot to poll" });
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).to.be.below(LEASE_MS + 2000);
    expect(await lease(sup)).to.deep.include({ node: 'host-b', role: 'active', holder: 'host-b', epoch: 2 });
    expect(sup.events.recent().some((e) => e.kind === 'cluster-active' && e.bot === 'main' && /from node host-a/.test(e.message))).to.equal(true);
    await echoes(token, 'from host-b');
    const stats = await bed.sim.client.stats(token);
    expect(stats.maxPendingPollers).to.equal(1);
    expect(stats.conflicts).to.equal(0);
    expect(logsOf(a)).to.include('cluster mode: node host-a');
    expect(logsOf(a)).not.to.include(PASSWORD);
    expect(logsOf(b)).not.to.include(PASSWORD);
  });

  it('a partition between the active node and PostgreSQL: its bot stops polling before its lease can lapse, then the other node polls', async () => {
    const token = newToken();
    const proxy = await startTcpProxy(db.port);
    bed.onCleanup(() => proxy.close());
    const a = node('host-a', token);
    const b = node('host-b', token);
    const supA = await startNode(a, `postgres://postgres@127.0.0.1:${proxy.port}/postgres`);
    const botA = supA.bots.get('main') as ManagedBot;
    await waitFor(() => botA.state === 'ready', { timeoutMs: 20_000, what: 'host-a to poll' });
    const supB = await startNode(b, db.url());
    const botB = supB.bots.get('main') as ManagedBot;
    await waitFor(async () => (await lease(supB))?.holder === 'host-a', { timeoutMs: 10_000, what: 'host-b to be standby' });
    await echoes(token, 'before');

    proxy.cut();
    const cutAt = Date.now();
    await waitFor(() => botA.state === 'waiting' && botA.pid === undefined, { timeoutMs: LEASE_MS + 5000, intervalMs: 10, what: "host-a's bot to stop" });
    const stoppedAt = Date.now();
    // Its last renewal was sent before the cut, so its lease lapses in PostgreSQL no sooner than cut + leaseMs.
    expect(stoppedAt - cutAt).to.be.below(LEASE_MS);
    expect(botA.status().problem).to.match(/^standby: cannot reach PostgreSQL/);
    await waitFor(() => botB.state === 'ready', { timeoutMs: LEASE_MS + 5000, intervalMs: 20, what: 'host-b to take over' });
    const taken = supB.events.recent().find((e) => e.kind === 'cluster-active');
    expect(taken, 'host-b took the lease').to.not.equal(undefined);
    expect(Date.parse(taken?.at ?? ''), 'host-b took the lease only after host-a stopped polling').to.be.at.least(stoppedAt - 20);
    expect(supA.events.recent().some((e) => e.kind === 'cluster-standby')).to.equal(true);
    expect(await lease(supA)).to.deep.include({ role: 'standby' });
    await echoes(token, 'during');

    proxy.heal();
    await waitFor(async () => (await lease(supA))?.holder === 'host-b' && (await lease(supA))?.error === null, { timeoutMs: 15_000, what: 'host-a to see host-b holding the lease' });
    expect(botA.state, 'the healed ex-active stays standby').to.equal('waiting');
    expect(await lease(supB)).to.deep.include({ role: 'active', epoch: 2 });
    await echoes(token, 'after');
    const stats = await bed.sim.client.stats(token);
    expect(stats.maxPendingPollers).to.equal(1);
    expect(stats.conflicts).to.equal(0);
  });

  it('a partition while the active bot is hung: its tree is killed within the lease margin, before anyone else may poll', async () => {
    const token = newToken();
    const proxy = await startTcpProxy(db.port);
    bed.onCleanup(() => proxy.close());
    // No watchdog and a long stop grace: only the lease's deadline can stop this bot in time.
    const slow = { ...FAST, hungAfterMs: 60_000, stopGraceMs: 30_000 };
    const a = install(bed.temp, bed.sim, [fixtureBot('main', token)], slow, { config: { cluster: { postgresEnv: 'BOTVISOR_TEST_PG', node: 'host-a', leaseMs: LEASE_MS, renewMs: RENEW_MS } } });
    const supA = await startNode(a, `postgres://postgres@127.0.0.1:${proxy.port}/postgres`);
    const botA = supA.bots.get('main') as ManagedBot;
    await waitFor(() => botA.state === 'ready', { timeoutMs: 20_000, what: 'host-a to poll' });
    const pid = botA.pid as number;
    bed.sim.users.sendCommand(token, { user: USER, command: 'spin' }); // its event loop never turns again
    await new Promise((r) => setTimeout(r, 500));

    proxy.cut();
    const cutAt = Date.now();
    await waitFor(() => !isRunning(pid), { timeoutMs: 30_000, intervalMs: 10, what: "host-a's hung bot to be killed" });
    // Its last renewal was sent before the cut: the lease can lapse in PostgreSQL no sooner than cut + leaseMs.
    expect(Date.now() - cutAt, 'the hung bot was killed before the lease could lapse').to.be.below(LEASE_MS);
    await waitFor(() => botA.state === 'waiting', { timeoutMs: 10_000, what: 'host-a to wait for the lease' });
  });

  it("a new lease epoch under a running bot (its lease lapsed and was taken again) ends the run: the next run writes the shared inbox under the new epoch", async () => {
    const token = newToken();
    const sup = await startNode(node('host-a', token), db.url());
    const bot = sup.bots.get('main') as ManagedBot;
    await waitFor(() => bot.state === 'ready', { timeoutMs: 20_000, what: 'host-a to poll' });
    await echoes(token, 'under epoch 1');
    const before = bot.pid as number;
    const admin = new pg.Pool({ connectionString: db.url(), max: 1 });
    bed.onCleanup(() => admin.end());
    // No write of the bot in flight (its coalesced settle has landed): only the supervisor can notice the new epoch.
    await waitFor(async () => (await admin.query('SELECT 1 FROM botvisor_inbox_entry WHERE token_hash = $1', [tokenHash(token)])).rowCount === 0, { what: 'the settle to land' });
    // What a renewal sees after its lease lapsed and this node took it again: the same holder, a higher epoch.
    await admin.query('UPDATE botvisor_lease SET epoch = epoch + 1 WHERE token_hash = $1', [tokenHash(token)]);
    await waitFor(async () => (await lease(sup))?.epoch === 2, { timeoutMs: 5000, what: 'the supervisor to renew into epoch 2' });
    await waitFor(() => bot.state === 'ready' && bot.pid !== before, { timeoutMs: 15_000, what: 'a new run of the bot' });
    expect(bot.stateHistory().some((c) => /the cluster lease's epoch changed \(1 → 2\)/.test(c.reason))).to.equal(true);
    await echoes(token, 'under epoch 2');
    const written = await admin.query<{ written_epoch: string }>('SELECT written_epoch FROM botvisor_inbox WHERE token_hash = $1', [tokenHash(token)]);
    expect(Number(written.rows[0]?.written_epoch)).to.equal(2);
  });

  it('a clean stop of the active node ends its lease at once: the standby polls within a renewal, not a whole lease', async () => {
    const token = newToken();
    const supA = await startNode(node('host-a', token), db.url());
    await supA.waitReady(20_000);
    const supB = await startNode(node('host-b', token), db.url());
    const botB = supB.bots.get('main') as ManagedBot;
    await waitFor(async () => (await lease(supB))?.holder === 'host-a', { timeoutMs: 10_000, what: 'host-b to be standby' });
    await supA.stop();
    const stoppedAt = Date.now();
    await waitFor(() => botB.state === 'ready', { timeoutMs: LEASE_MS + 5000, intervalMs: 20, what: 'host-b to take over' });
    expect(Date.now() - stoppedAt).to.be.below(LEASE_MS);
    await echoes(token, 'handed over');
    expect((await bed.sim.client.stats(token)).maxPendingPollers).to.equal(1);
  });
});
