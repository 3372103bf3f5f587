import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, fakeToken, freePort, usePostgres, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { judgeClusterProbe, MAX_CLOCK_SKEW_MS } from '../src/commands/doctor-cluster.js';

const CLI = fileURLToPath(import.meta.resolve('@botvisor/cli/bin'));
const DAEMON = fileURLToPath(import.meta.resolve('@botvisor/supervisor/daemon'));
const BOT = fileURLToPath(new URL('./fixtures/echo-bot.js', import.meta.url));
const PASSWORD = 'doctor-pg-secret-8812';

describe("doctor's verdicts on a look at the cluster's PostgreSQL", () => {
  const judge = (clockSkewMs: number, roundTripMs = 1.5) => judgeClusterProbe({ clockSkewMs, roundTripMs, leases: 2 }, 'host-a', 'PostgreSQL at db:5432/botvisor', 2000);

  it('a clock more than 2 s off the database is a warning to run NTP, either way; within it is fine', () => {
    expect(judge(150)).to.deep.equal([
      { verdict: 'ok', what: 'cluster: node host-a reaches PostgreSQL at db:5432/botvisor (round trip 1.5 ms, 2 lease row(s))' },
      { verdict: 'ok', what: "cluster: clock within 150 ms of the database's" },
    ]);
    expect(judge(-MAX_CLOCK_SKEW_MS)[1]?.verdict).to.equal('ok');
    expect(judge(2500)[1]).to.deep.equal({ verdict: 'warn', what: "cluster: this machine's clock is 2500 ms off the database's; run NTP (chrony or systemd-timesyncd) on every node" });
    expect(judge(-3000)[1]?.what).to.include('clock is -3000 ms off');
    expect(judge(Number.NaN)[1], 'a database answer without a time is not a sane clock').to.deep.equal({ verdict: 'warn', what: "cluster: this machine's clock is an unknown amount off the database's; run NTP (chrony or systemd-timesyncd) on every node" });
  });

  it('a round trip over half of renewMs is a warning to raise renewMs and leaseMs', () => {
    expect(judge(0, 1200)[2]).to.deep.equal({ verdict: 'warn', what: 'cluster: a round trip to PostgreSQL takes 1200 ms, more than half of renewMs (2000); raise renewMs and leaseMs' });
    expect(judge(0, 900)).to.have.length(2);
  });
});

describe('cluster mode in the CLI: doctor checks PostgreSQL, status names the active node (real processes, a throwaway PostgreSQL)', function () {
  this.timeout(90_000);
  const bed = useTestbed();
  const pg = usePostgres();

  function installation(nodeName: string, token: string): string {
    const dir = bed.temp.make('botvisor-cluster-cli-');
    const config = path.join(dir, 'botvisor.json');
    const cluster = { postgresEnv: 'CLUSTER_PG', node: nodeName, leaseMs: 3000, renewMs: 500 };
    writeFileSync(config, JSON.stringify({ apiRoot: bed.sim.url, http: { port: 0 }, locksDir: path.join(dir, 'locks'), cluster, bots: [{ name: 'main', module: BOT, token }] }));
    return config;
  }

  async function cli(args: string[], pg: string): Promise<{ code: number; stdout: string }> {
    const child = bed.tracker.spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CLUSTER_PG: pg } });
    let stdout = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await exited(child);
    return { code: typeof code === 'number' ? code : -1, stdout };
  }

  it('doctor: PostgreSQL reachable and the clock sane; an unreachable one fails without showing the password', async () => {
    const config = installation('host-a', fakeToken());
    const ok = await cli(['doctor', '-c', config], pg.db.url(PASSWORD));
    expect(ok.code, ok.stdout).to.equal(0);
    expect(ok.stdout).to.match(new RegExp(`✓ cluster: node host-a reaches PostgreSQL at 127\\.0\\.0\\.1:${pg.db.port}/postgres \\(round trip [0-9.]+ ms, 0 lease row\\(s\\)\\)`));
    expect(ok.stdout).to.match(/✓ cluster: clock within \d+ ms of the database's/);
    const deadPort = await freePort();
    const bad = await cli(['doctor', '-c', config], `postgres://postgres:${PASSWORD}@127.0.0.1:${deadPort}/postgres`);
    expect(bad.code).to.equal(1);
    expect(bad.stdout).to.include(`✗ cluster: cannot use PostgreSQL at 127.0.0.1:${deadPort}/postgres: `);
    expect(bad.stdout).not.to.include(PASSWORD);
    const unset = await cli(['doctor', '-c', config], '');
    expect(unset.stdout).to.include('? cluster: PostgreSQL not checked: $CLUSTER_PG is not set in this shell (only the supervisor needs it)');
  });

  it('status on the standby node names the active one; doctor counts a standby as fine', async () => {
    const token = fakeToken();
    const a = installation('host-a', token);
    const b = installation('host-b', token);
    bed.tracker.spawn(process.execPath, [DAEMON, '--config', a], { stdio: 'ignore', env: { ...process.env, CLUSTER_PG: pg.db.url() } });
    await waitFor(async () => (await bed.sim.client.stats(token)).pendingPollers === 1, { timeoutMs: 20_000, what: 'host-a to poll' });
    bed.tracker.spawn(process.execPath, [DAEMON, '--config', b], { stdio: 'ignore', env: { ...process.env, CLUSTER_PG: pg.db.url() } });
    let status = { code: -1, stdout: '' };
    await waitFor(
      async () => {
        status = await cli(['status', '-c', b], '');
        return status.stdout.includes('cluster: node host-b is standby (active: host-a), epoch 1');
      },
      { timeoutMs: 20_000, what: `host-b's status to name host-a as active` },
    );
    const json = JSON.parse((await cli(['status', '--json', '-c', b], '')).stdout) as { supervisor: { locks: Array<{ cluster: Record<string, unknown> }> } };
    expect(json.supervisor.locks[0]?.cluster).to.deep.include({ node: 'host-b', role: 'standby', holder: 'host-a', epoch: 1 });
    const statusA = await cli(['status', '-c', a], '');
    expect(statusA.stdout).to.match(/cluster: node host-a is active, epoch 1, lease ends in \d\.\d s unless renewed/);
    const doctor = await cli(['doctor', '-c', b], pg.db.url());
    expect(doctor.stdout).to.include("✓ bot main (waiting): standby: node host-a holds this token's cluster lease (epoch 1)");
    expect(doctor.code, doctor.stdout).to.equal(0);
    expect((await bed.sim.client.stats(token)).maxPendingPollers).to.equal(1);
  });
});
