import { startPostgres, type TestPostgres } from '@botvisor/testkit';
import { expect } from 'chai';
import type { Update } from 'node-telegram-bot-api';
import pg from 'pg';
import { orderingKeyOf } from '../src/dispatch/update-shape.js';
import { InboxFencedError, PostgresInbox } from '../src/inbox/postgres-inbox.js';
import { RecordingLogger } from './support/recording-logger.js';

/** The supervisor's lease table (supervisor/src/cluster/lease-store.ts), as the supervisor makes it. */
const LEASE_TABLE = `CREATE TABLE IF NOT EXISTS botvisor_lease (
  token_hash text PRIMARY KEY, holder text NOT NULL, holder_instance text NOT NULL, epoch bigint NOT NULL,
  expires_at timestamptz NOT NULL, changed_at timestamptz NOT NULL)`;

function message(updateId: number, chat: number, text = `m${updateId}`): Update {
  return { update_id: updateId, message: { message_id: updateId, date: 1, chat: { id: chat, type: 'private', first_name: 'u' }, from: { id: chat, is_bot: false, first_name: 'u' }, text } } as Update;
}

describe('cluster inbox in PostgreSQL, fenced by the lease epoch', function () {
  this.timeout(60_000);
  let db: TestPostgres;
  let admin: pg.Pool;
  let tokenSeq = 0;
  const open: PostgresInbox[] = [];

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
  afterEach(async () => {
    for (const inbox of open.splice(0)) await inbox.close();
  });

  /** A lease row at `epoch`, as a supervisor's take would leave it. */
  async function lease(tokenHash: string, epoch: number): Promise<void> {
    await admin.query(
      `INSERT INTO botvisor_lease VALUES ($1, 'node', 'instance', $2, clock_timestamp() + interval '1 minute', clock_timestamp())
       ON CONFLICT (token_hash) DO UPDATE SET epoch = $2`,
      [tokenHash, epoch],
    );
  }

  async function inboxAt(tokenHash: string, epoch: number, fenced: InboxFencedError[] = [], logger = new RecordingLogger()): Promise<PostgresInbox> {
    const inbox = await PostgresInbox.open({ connectionString: db.url(), tokenHash, epoch, botId: '42', logger, onFenced: (err) => fenced.push(err), settleEveryMs: 20 });
    open.push(inbox);
    return inbox;
  }

  /** A holder that is gone without a clean close (kill -9): its connection just ends. */
  async function vanish(inbox: PostgresInbox): Promise<void> {
    open.splice(open.indexOf(inbox), 1);
    await (inbox as unknown as { pool: pg.Pool }).pool.end();
  }

  function newTokenHash(): string {
    return `token-${++tokenSeq}-${Date.now()}`;
  }

  it('a takeover hands out the old holder\'s accepted, unsettled updates again, marked redelivered, and keeps the offset', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const a = await inboxAt(token, 1);
    await a.recover(orderingKeyOf);
    expect(await a.accept([message(10, 1), message(11, 2), message(12, 1)])).to.have.length(3);
    a.markStarted(10);
    a.settle(10);
    await a.flush();
    await vanish(a);
    await lease(token, 2);
    const b = await inboxAt(token, 2);
    expect(b.offset).to.equal(13);
    const recovery = await b.recover(orderingKeyOf);
    expect(recovery.updates.map((r) => [r.update.update_id, r.redelivered])).to.deep.equal([
      [11, true],
      [12, true],
    ]);
    expect(recovery.quarantined).to.deep.equal([]);
    // The server hands the last batch out again (its offset was never confirmed): recognised across nodes.
    expect(await b.accept([message(10, 1), message(11, 2), message(12, 1), message(13, 3)])).to.deep.equal([{ update: message(13, 3), redelivered: false }]);
    expect(b.offset).to.equal(14);
  });

  it('a write under an older epoch is refused and changes nothing; the bot is told once', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const fenced: InboxFencedError[] = [];
    const a = await inboxAt(token, 1, fenced);
    await a.recover(orderingKeyOf);
    await a.accept([message(1, 1)]);
    await lease(token, 2); // another node took the token
    let refused: unknown;
    try {
      await a.accept([message(2, 1)]);
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(InboxFencedError);
    expect(refused).to.deep.include({ epoch: 1, currentEpoch: 2 });
    a.markStarted(1);
    a.settle(1);
    await a.flush().catch(() => undefined);
    expect(fenced).to.have.length(1);

    const b = await inboxAt(token, 2);
    expect(b.offset, 'the refused batch did not move the offset').to.equal(2);
    const recovery = await b.recover(orderingKeyOf);
    expect(recovery.updates.map((r) => r.update.update_id), 'the refused settle did not remove the entry; the refused batch is not there').to.deep.equal([1]);
  });

  it('opening under an older epoch is refused at once', async () => {
    const token = newTokenHash();
    await lease(token, 3);
    let refused: unknown;
    try {
      await inboxAt(token, 2);
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(InboxFencedError);
  });

  it('a clean close writes the coalesced settles: the next holder gets only the unstarted rest, unmarked', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const a = await inboxAt(token, 1);
    await a.recover(orderingKeyOf);
    await a.accept([message(1, 1), message(2, 2), message(3, 3)]);
    a.markStarted(1);
    a.settle(1);
    a.markStarted(2);
    await a.close();
    await lease(token, 2);
    const b = await inboxAt(token, 2);
    const recovery = await b.recover(orderingKeyOf);
    expect(recovery.updates.map((r) => [r.update.update_id, r.redelivered])).to.deep.equal([
      [2, true],
      [3, false],
    ]);
  });

  it('an update in flight at two takeovers in a row is quarantined, not handed out a third time', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const a = await inboxAt(token, 1);
    await a.recover(orderingKeyOf);
    await a.accept([message(1, 1)]);
    await vanish(a);
    await lease(token, 2);
    const b = await inboxAt(token, 2);
    expect((await b.recover(orderingKeyOf)).updates).to.have.length(1);
    await vanish(b);
    await lease(token, 3);
    const c = await inboxAt(token, 3);
    const recovery = await c.recover(orderingKeyOf);
    expect(recovery.updates).to.deep.equal([]);
    expect(recovery.quarantined.map((q) => q.update.update_id)).to.deep.equal([1]);
    expect(c.pendingCount).to.equal(0);
  });
});
