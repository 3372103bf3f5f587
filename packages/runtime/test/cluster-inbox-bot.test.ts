import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_FAILURE, IPC_PROTOCOL_VERSION, SKIP_TELEGRAM_LOCK_VAR, tokenHash } from '@botvisor/core';
import { startPostgres, type TestPostgres, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import pg from 'pg';
import { type BotUnderTest, install, newToken, startBot } from './support/bot-harness.js';

const LEASE_TABLE = `CREATE TABLE IF NOT EXISTS botvisor_lease (
  token_hash text PRIMARY KEY, holder text NOT NULL, holder_instance text NOT NULL, epoch bigint NOT NULL,
  expires_at timestamptz NOT NULL, changed_at timestamptz NOT NULL)`;
const PASSWORD = 'pg-secret-in-the-hello-only-4242';

describe('a bot in cluster mode: the inbox and state in PostgreSQL under the epoch of its hello', function () {
  this.timeout(60_000);
  const bed = useTestbed();
  let db: TestPostgres;
  let admin: pg.Pool;

  before(async function () {
    this.timeout(60_000);
    db = await startPostgres();
    admin = new pg.Pool({ connectionString: db.url(), max: 1 });
    await admin.query(LEASE_TABLE);
  });
  after(async () => {
    await admin?.end();
    db?.stop();
  });

  async function lease(hash: string, epoch: number): Promise<void> {
    await admin.query(
      `INSERT INTO botvisor_lease VALUES ($1, 'node', 'instance', $2, clock_timestamp() + interval '1 minute', clock_timestamp())
       ON CONFLICT (token_hash) DO UPDATE SET epoch = $2`,
      [hash, epoch],
    );
  }

  /** Forks the bot as a supervisor that holds the token's lease at `epoch` would: the lock skipped, the grant in the hello. */
  function clusterBot(inst: ReturnType<typeof install>, token: string, epoch: number): BotUnderTest {
    const bot = startBot(bed.tracker, inst, { env: { [SKIP_TELEGRAM_LOCK_VAR]: '1' } });
    bot.child.send({
      type: 'hello',
      protocol: IPC_PROTOCOL_VERSION,
      bot: 'main',
      skipTelegramLock: true,
      polling: true,
      cluster: { postgres: db.url(PASSWORD), tokenHash: tokenHash(token), epoch, node: 'host-a' },
    });
    return bot;
  }

  /** A fresh token leased at epoch 1 to a bot of a fresh installation, which is ready. */
  async function firstHolder(): Promise<{ token: string; hash: string; inst: ReturnType<typeof install>; first: BotUnderTest }> {
    const token = newToken();
    const hash = tokenHash(token);
    await lease(hash, 1);
    const inst = install(bed.temp, bed.sim, { token });
    const first = clusterBot(inst, token, 1);
    await first.ready();
    return { token, hash, inst, first };
  }

  it('a write refused for an older epoch stops the bot before it handles or confirms anything; the next holder gets the update', async () => {
    const { token, hash, inst, first } = await firstHolder();
    const user = { id: 77, first_name: 'Ada' };
    const { update_id: one } = bed.sim.users.sendMessage(token, { user, text: 'n1' });
    await waitFor(() => first.records().some((r) => r.id === one), { what: 'the first update to be handled' });
    const stored = await admin.query<{ update_offset: string }>('SELECT update_offset FROM botvisor_inbox WHERE token_hash = $1', [hash]);
    expect(Number(stored.rows[0]?.update_offset), 'the shared offset').to.equal((one as number) + 1);

    const pendingRows = async (): Promise<number> => (await admin.query('SELECT 1 FROM botvisor_inbox_entry WHERE token_hash = $1', [hash])).rowCount ?? 0;
    await waitFor(async () => (await pendingRows()) === 0, { what: 'the coalesced settle to reach the shared inbox' });

    await lease(hash, 2); // another node took the token
    const { update_id: two } = bed.sim.users.sendMessage(token, { user, text: 'n2' });
    expect(await first.exited()).to.equal(EXIT_FAILURE);
    expect(first.records().map((r) => r.id)).to.deep.equal([one]);
    expect(first.logLines().some((l) => l.level === 'warning' && /a write to the cluster inbox was refused for an older lease epoch/.test(l.msg))).to.equal(true);
    expect(await pendingRows(), 'the refused batch is not in the shared inbox').to.equal(0);

    const second = clusterBot(inst, token, 2);
    await second.ready();
    await waitFor(() => second.records().some((r) => r.id === two), { what: 'the next holder to handle the refused update' });
    // One record file for both runs (one installation): the first update is in it once.
    expect(second.records().filter((r) => r.id === one), 'the first update is not handled again').to.have.length(1);
    const logs = readdirSync(inst.logDir).map((f) => readFileSync(path.join(inst.logDir, f), 'utf8'));
    for (const log of logs) expect(log).not.to.include(PASSWORD);
  });

  it('a state write refused for an older epoch stops the bot; the state row keeps what its epoch wrote, and the next holder reads it', async () => {
    const { token, hash, inst, first } = await firstHolder();
    const user = { id: 78, first_name: 'Ada' };
    const stateRow = async () => (await admin.query<{ body: unknown; written_epoch: string }>("SELECT body, written_epoch FROM botvisor_document WHERE token_hash = $1 AND name = 'state'", [hash])).rows[0];
    const { cursor } = bed.sim.users.sendCommand(token, { user, command: 'note', args: '0 first' });
    await bed.sim.client.waitForMessage(token, user.id, { after: cursor, text: 'noted' });
    await waitFor(async () => JSON.stringify((await stateRow())?.body) === '{"notes":["first"]}', { what: 'the first note in the state row' });

    // The handler of the second note sleeps; meanwhile another node takes the token, after the inbox marked it started.
    bed.sim.users.sendCommand(token, { user, command: 'note', args: '1500 second' });
    await waitFor(async () => (await admin.query('SELECT 1 FROM botvisor_inbox_entry WHERE token_hash = $1 AND started', [hash])).rowCount === 1, { what: 'the second note to be marked started' });
    await lease(hash, 2);
    expect(await first.exited()).to.equal(EXIT_FAILURE);
    expect(first.logLines().some((l) => l.level === 'warning' && /a write to the cluster state or job records was refused for an older lease epoch/.test(l.msg))).to.equal(true);
    expect(await stateRow(), 'the refused write changed nothing').to.deep.equal({ body: { notes: ['first'] }, written_epoch: '1' });

    // The next holder starts from that state and handles the note again, marked redelivered.
    const second = clusterBot(inst, token, 2);
    await second.ready();
    await waitFor(async () => JSON.stringify((await stateRow())?.body) === '{"notes":["first","second"]}', { timeoutMs: 10_000, what: 'the next holder to add the second note to the first' });
    expect((await stateRow())?.written_epoch).to.equal('2');
  });
});
