import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, isAlive, loadConfig, refOf, tokenHash } from '@botvisor/core';
import { exited, usePostgres, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import pg from 'pg';
import { type ManagedBot, Supervisor } from '../src/index.js';
import { DAEMON, fixtureBot, type Installation, install, newToken } from './support/installation.js';

const STATE_BOT = fileURLToPath(new URL('./fixtures/state-bot.js', import.meta.url));
const USER = { id: 2002, first_name: 'Grace' };
const FAST = { pingIntervalMs: 500, hungAfterMs: 3000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 100, stopGraceMs: 2000 };
const LEASE_MS = 3000;
const RENEW_MS = 500;

interface JobsDocument {
  jobs: Array<{ id: number; status: string; notified?: boolean; process?: { pid: number; startTime: number; node?: string } }>;
}

describe('cluster: the bot\'s state and job records in PostgreSQL, across a failover', function () {
  this.timeout(120_000);
  const bed = useTestbed();
  const pgBed = usePostgres();
  let admin: pg.Pool;

  before(() => {
    admin = new pg.Pool({ connectionString: pgBed.db.url(), max: 1 });
  });
  after(async () => {
    await admin?.end();
  });

  /** A node: its own installation (data dir, lock folder), the same bot and token as the other node. */
  function node(name: string, token: string): Installation {
    const bot = fixtureBot('main', token, { module: STATE_BOT, commands: { work: { argv: ['sleep', '300'] } }, allow: 'anyone' });
    return install(bed.temp, bed.sim, [bot], FAST, { config: { cluster: { postgresEnv: 'BOTVISOR_TEST_PG', node: name, leaseMs: LEASE_MS, renewMs: RENEW_MS } } });
  }

  async function startNode(inst: Installation): Promise<Supervisor> {
    const env = { ...process.env, BOTVISOR_TEST_PG: pgBed.db.url() };
    const config = loadConfig(inst.configFile, { env });
    const logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never', level: 'debug' });
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger, env });
    bed.onCleanup(() => sup.stop());
    return sup;
  }

  function daemonNode(inst: Installation): ChildProcess {
    return bed.tracker.spawn(process.execPath, [DAEMON, '--config', inst.configFile], { stdio: 'ignore', env: { ...process.env, BOTVISOR_TEST_PG: pgBed.db.url() } });
  }

  /** host-a polls as a daemon of its own (to be killed -9); host-b runs here, standby. */
  async function twoNodes(token: string): Promise<{ active: ChildProcess; b: Installation; botB: ManagedBot; supB: Supervisor }> {
    const active = daemonNode(node('host-a', token));
    await waitFor(async () => (await bed.sim.client.stats(token)).pendingPollers === 1, { timeoutMs: 20_000, what: 'node host-a to poll' });
    const b = node('host-b', token);
    const supB = await startNode(b);
    await waitFor(async () => (await supB.status()).supervisor.locks[0]?.cluster?.holder === 'host-a', { timeoutMs: 10_000, what: 'host-b to see host-a holding the lease' });
    return { active, b, botB: supB.bots.get('main') as ManagedBot, supB };
  }

  async function ask(token: string, command: string): Promise<string | undefined> {
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command });
    return (await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, timeoutMs: 15_000 })).text;
  }

  async function documentRow<T>(token: string, name: string): Promise<{ body: T; written_epoch: string } | undefined> {
    return (await admin.query<{ body: T; written_epoch: string }>('SELECT body, written_epoch FROM botvisor_document WHERE token_hash = $1 AND name = $2', [tokenHash(token), name])).rows[0];
  }

  function logsOf(inst: Installation): string {
    return readdirSync(inst.logDir)
      .map((f) => readFileSync(path.join(inst.logDir, f), 'utf8'))
      .join('\n');
  }

  it('the state the active node\'s bot wrote is what the standby\'s bot reads after a failover', async () => {
    const token = newToken();
    const { active, botB } = await twoNodes(token);
    expect(await ask(token, 'count')).to.equal('count 1');
    expect(await ask(token, 'count')).to.equal('count 2');
    expect((await documentRow<{ count: number }>(token, 'state'))?.body).to.deep.equal({ count: 2 });

    active.kill('SIGKILL');
    expect(await exited(active)).to.equal('SIGKILL');
    await waitFor(() => botB.state === 'ready', { timeoutMs: LEASE_MS + 10_000, what: 'host-b to take over' });
    expect(await ask(token, 'count'), "host-b's bot goes on from host-a's count").to.equal('count 3');
    await waitFor(async () => (await documentRow<{ count: number }>(token, 'state'))?.written_epoch === '2', { what: 'the count to be written under epoch 2' });
    expect((await documentRow<{ count: number }>(token, 'state'))?.body).to.deep.equal({ count: 3 });
  });

  it('a job running on host-a when it dies is reported interrupted by host-b, and host-b signals no process', async () => {
    const token = newToken();
    const { active, b, botB } = await twoNodes(token);
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'work' });
    const running = await waitFor(
      async () => {
        const job = (await documentRow<JobsDocument>(token, 'jobs'))?.body.jobs.find((j) => j.id === 1);
        return job?.status === 'running' && job.process !== undefined ? job.process : undefined;
      },
      { timeoutMs: 15_000, what: 'job 1 to run on host-a with its process recorded' },
    );
    expect(running.node).to.equal('host-a');
    // On one test machine host-a's pid names a live process here too: exactly what host-b must leave alone.
    const jobRef = refOf(running.pid);
    expect(jobRef?.startTime).to.equal(running.startTime);
    bed.onCleanup(() => {
      for (const target of [-running.pid, running.pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
    // The update that asked is settled: no redelivery plays a part.
    await waitFor(async () => (await admin.query('SELECT 1 FROM botvisor_inbox_entry WHERE token_hash = $1', [tokenHash(token)])).rowCount === 0, { what: 'the /work update to be settled' });

    // The whole of host-a dies at once, its job process excepted (it stands in for a pid of host-b's):
    // the bot is frozen first so it cannot stop its job, then the supervisor and the bot are killed.
    const botPid = Number(readFileSync(`/proc/${running.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
    expect(readFileSync(`/proc/${botPid}/cmdline`, 'utf8'), "the job's parent is host-a's bot").to.include('node');
    process.kill(botPid, 'SIGSTOP');
    active.kill('SIGKILL');
    process.kill(botPid, 'SIGKILL');
    expect(await exited(active)).to.equal('SIGKILL');

    await waitFor(() => botB.state === 'ready', { timeoutMs: LEASE_MS + 10_000, what: 'host-b to take over' });
    await waitFor(async () => (await bed.sim.client.transcript(token, USER.id, cursor)).entries.some((e) => /^⚠️ Job #1 \(\/work\) was interrupted: the bot restarted while it ran/.test(e.text ?? '')), {
      timeoutMs: 15_000,
      what: "the job's owner to be told it was interrupted",
    });
    await waitFor(async () => (await documentRow<JobsDocument>(token, 'jobs'))?.body.jobs.find((j) => j.id === 1)?.notified === true, { what: 'the notice to be recorded' });
    const record = await documentRow<JobsDocument>(token, 'jobs');
    expect(record?.written_epoch).to.equal('2');
    expect(record?.body.jobs.find((j) => j.id === 1)).to.deep.include({ status: 'interrupted' });
    expect(isAlive(jobRef as NonNullable<typeof jobRef>), "host-b did not signal the process host-a's pid names").to.equal(true);
    expect(logsOf(b)).to.include('a job was running on another cluster node when this node took the bot over');
  });
});
