import { type Clock, StoreClosedError } from '@botvisor/core';
import { usePostgres, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import pg from 'pg';
import { z } from 'zod';
import { DocumentDatabase, StoreFencedError } from '../src/cluster/document-database.js';
import { openPostgresStore } from '../src/cluster/postgres-store.js';
import { RecordingLogger } from './support/recording-logger.js';

/** The supervisor's lease table (supervisor/src/cluster/lease-store.ts), as the supervisor makes it. */
const LEASE_TABLE = `CREATE TABLE IF NOT EXISTS botvisor_lease (
  token_hash text PRIMARY KEY, holder text NOT NULL, holder_instance text NOT NULL, epoch bigint NOT NULL,
  expires_at timestamptz NOT NULL, changed_at timestamptz NOT NULL)`;

const counterSchema = z.object({ count: z.number().int(), names: z.array(z.string()) });
type Counter = z.infer<typeof counterSchema>;
const counterDefaults = (): Counter => ({ count: 0, names: [] });

/** Time for backup names, moved by hand; no timer ever fires. */
function manualClock(start = Date.parse('2024-05-01T12:00:00Z')): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    every: () => () => undefined,
    advance: (ms) => {
      now += ms;
    },
  };
}

describe('cluster document store in PostgreSQL, fenced by the lease epoch', function () {
  this.timeout(60_000);
  const bed = usePostgres();
  let admin: pg.Pool;
  let tokenSeq = 0;
  const opened: DocumentDatabase[] = [];

  before(async () => {
    admin = new pg.Pool({ connectionString: bed.db.url(), max: 2 });
    await admin.query(LEASE_TABLE);
  });
  after(async () => {
    await admin?.end();
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
  });

  async function lease(tokenHash: string, epoch: number): Promise<void> {
    await admin.query(
      `INSERT INTO botvisor_lease VALUES ($1, 'node', 'instance', $2, clock_timestamp() + interval '1 minute', clock_timestamp())
       ON CONFLICT (token_hash) DO UPDATE SET epoch = $2`,
      [tokenHash, epoch],
    );
  }

  function newTokenHash(): string {
    return `doc-token-${++tokenSeq}-${Date.now()}`;
  }

  async function database(tokenHash: string, epoch: number, fenced: StoreFencedError[] = [], logger = new RecordingLogger(), queryTimeoutMs?: number): Promise<DocumentDatabase> {
    const db = await DocumentDatabase.open({ connectionString: bed.db.url(), tokenHash, epoch, logger, onFenced: (err) => fenced.push(err), ...(queryTimeoutMs !== undefined ? { queryTimeoutMs } : {}) });
    opened.push(db);
    return db;
  }

  async function row(tokenHash: string, name: string): Promise<{ body: unknown; written_epoch: string } | undefined> {
    return (await admin.query<{ body: unknown; written_epoch: string }>('SELECT body, written_epoch FROM botvisor_document WHERE token_hash = $1 AND name = $2', [tokenHash, name])).rows[0];
  }

  it('a fresh document starts from the defaults and is in its row before open returns', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const store = await openPostgresStore({ db: await database(token, 1), name: 'state', defaults: counterDefaults, schema: counterSchema, backupIntervalMs: 0 });
    expect(store.loaded.source).to.equal('missing');
    expect(store.data).to.deep.equal({ count: 0, names: [] });
    expect(await row(token, 'state')).to.deep.equal({ body: { count: 0, names: [] }, written_epoch: '1' });
    await store.close();
  });

  it('changes are read at once and written behind: a burst of updates goes out as one write; the next holder loads what was written', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const db = await database(token, 1);
    const store = await openPostgresStore({ db, name: 'state', defaults: counterDefaults, schema: counterSchema, backupIntervalMs: 0 });
    const writes: unknown[][] = [];
    const write = db.write.bind(db);
    db.write = (sql, params) => {
      writes.push(params);
      return write(sql, params);
    };
    for (let i = 0; i < 50; i++) {
      store.update((d) => {
        d.count++;
        d.names.push(`n${i}`);
      });
      expect(store.data.count, 'read synchronously after the change').to.equal(i + 1);
    }
    await store.flush();
    expect(writes, 'fifty changes in one synchronous stretch, one statement').to.have.length(1);
    expect((await row(token, 'state'))?.body).to.deep.include({ count: 50 });
    await store.close();

    await lease(token, 2); // the other node takes the token
    const next = await openPostgresStore({ db: await database(token, 2), name: 'state', defaults: counterDefaults, schema: counterSchema, backupIntervalMs: 0 });
    expect(next.loaded.source).to.equal('file');
    expect(next.data.count).to.equal(50);
    expect(next.data.names).to.have.length(50);
    next.update((d) => {
      d.count = 51;
    });
    await next.flush();
    expect(await row(token, 'state')).to.deep.include({ written_epoch: '2' });
    await next.close();
  });

  it('a write under an older epoch is refused and changes nothing; the run is told once, and later writes of any document are refused too', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const fenced: StoreFencedError[] = [];
    const db = await database(token, 1, fenced);
    const state = await openPostgresStore({ db, name: 'state', defaults: counterDefaults, schema: counterSchema, backupIntervalMs: 0 });
    const jobs = await openPostgresStore({ db, name: 'jobs', defaults: counterDefaults, backupIntervalMs: 0 });
    state.update((d) => {
      d.count = 7;
    });
    await state.flush();
    const before = await row(token, 'state');

    await lease(token, 2); // another node took the token
    state.update((d) => {
      d.count = 8;
      d.names.push('from the old holder');
    });
    const refused = await state.flush().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(StoreFencedError);
    expect((refused as StoreFencedError).currentEpoch).to.equal(2);
    expect(await row(token, 'state'), 'the row is as the epoch-1 write left it').to.deep.equal(before);
    expect(fenced).to.have.length(1);
    expect(fenced[0]).to.include({ epoch: 1, currentEpoch: 2 });

    jobs.update((d) => {
      d.count = 1;
    });
    const alsoRefused = await jobs.flush().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(alsoRefused).to.equal(refused);
    expect(fenced, 'told once, whichever document hit the fence').to.have.length(1);
    expect((await row(token, 'jobs'))?.body).to.deep.equal({ count: 0, names: [] });
  });

  it('opening under an older epoch fails at once: nothing is loaded or written', async () => {
    const token = newTokenHash();
    await lease(token, 3);
    let failed: unknown;
    try {
      await database(token, 2);
    } catch (err) {
      failed = err;
    }
    expect(failed).to.be.instanceOf(StoreFencedError);
    expect(failed).to.include({ epoch: 2, currentEpoch: 3 });
  });

  it('a document that fails its schema is set aside as a corrupt copy and the newest valid backup restored, with an ERROR', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const db = await database(token, 1);
    const clock = manualClock();
    const store = await openPostgresStore({ db, name: 'state', defaults: counterDefaults, schema: counterSchema, backupIntervalMs: 0, clock });
    store.update((d) => {
      d.count = 1;
    });
    const older = await store.backupNow();
    store.update((d) => {
      d.count = 2;
    });
    clock.advance(60_000);
    const newer = await store.backupNow();
    expect((await store.listBackups()).map((b) => b.takenAt)).to.deep.equal([newer.takenAt, older.takenAt]);
    await store.close();
    // The newest backup is made invalid too: recovery skips it, with a WARNING.
    await admin.query(`UPDATE botvisor_document_copy SET body = '{"count": "two"}' WHERE token_hash = $1 AND kind = 'backup' AND taken_at = to_timestamp($2::float8 / 1000)`, [token, newer.takenAt]);
    await admin.query(`UPDATE botvisor_document SET body = '{"count": "bad"}' WHERE token_hash = $1 AND name = 'state'`, [token]);

    const logger = new RecordingLogger();
    const again = await openPostgresStore({ db: await database(token, 1, [], logger), name: 'state', defaults: counterDefaults, schema: counterSchema, backupIntervalMs: 0 });
    expect(again.loaded.source).to.equal('backup');
    expect(again.loaded.restoredFrom?.takenAt).to.equal(older.takenAt);
    expect(again.data).to.deep.equal({ count: 1, names: [] });
    expect(logger.at('warning').some((r) => r.msg === 'skipping a backup that is not valid')).to.equal(true);
    const error = logger.at('error').find((r) => /set it aside and restored the newest valid backup/.test(r.msg));
    expect(error?.meta.reason).to.match(/count/);
    expect(error?.meta.corruptCopy).to.match(/^botvisor_document_copy \(name state, kind corrupt, taken_at /);
    expect((await row(token, 'state'))?.body, 'the restored data is in the row before open returns').to.deep.equal({ count: 1, names: [] });
    const aside = await admin.query<{ body: unknown }>(`SELECT body FROM botvisor_document_copy WHERE token_hash = $1 AND name = 'state' AND kind = 'corrupt'`, [token]);
    expect(aside.rows.map((r) => r.body), 'the bad document is kept for a person to look at').to.deep.equal([{ count: 'bad' }]);
    await again.close();
  });

  it('a document that fails its schema with no valid backup starts from the defaults, the bad one kept aside', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    await openPostgresStore({ db: await database(token, 1), name: 'state', defaults: counterDefaults, schema: counterSchema, backupIntervalMs: 0 }).then((s) => s.close());
    await admin.query(`UPDATE botvisor_document SET body = '[1, 2]' WHERE token_hash = $1 AND name = 'state'`, [token]);
    const logger = new RecordingLogger();
    const store = await openPostgresStore({ db: await database(token, 1, [], logger), name: 'state', defaults: counterDefaults, schema: counterSchema, backupIntervalMs: 0 });
    expect(store.loaded.source).to.equal('defaults');
    expect(store.data).to.deep.equal({ count: 0, names: [] });
    expect(logger.at('error').some((r) => /no valid backup exists: set it aside and started from defaults/.test(r.msg))).to.equal(true);
    expect((await row(token, 'state'))?.body).to.deep.equal({ count: 0, names: [] });
    const aside = await admin.query(`SELECT 1 FROM botvisor_document_copy WHERE token_hash = $1 AND kind = 'corrupt'`, [token]);
    expect(aside.rowCount).to.equal(1);
    await store.close();
  });

  it('backups are fenced rows: only the newest keepBackups stay; the first open takes one', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const clock = manualClock();
    const store = await openPostgresStore({ db: await database(token, 1), name: 'jobs', defaults: counterDefaults, keepBackups: 2, clock });
    expect(await store.listBackups(), 'the first open took one').to.have.length(1);
    const taken: number[] = [];
    for (let i = 0; i < 3; i++) {
      store.update((d) => {
        d.count = i;
      });
      clock.advance(60_000);
      taken.push((await store.backupNow()).takenAt);
    }
    const kept = await store.listBackups();
    expect(kept.map((b) => b.takenAt)).to.deep.equal([taken[2], taken[1]]);
    await lease(token, 2);
    let refused: unknown;
    try {
      await store.backupNow();
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(StoreFencedError);
    expect(await store.listBackups(), 'a refused backup adds and prunes nothing').to.deep.equal(kept);
  });

  it('as the file store: update needs a synchronous fn, and a closed store refuses changes', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const store = await openPostgresStore({ db: await database(token, 1), name: 'state', defaults: counterDefaults, schema: counterSchema, backupIntervalMs: 0 });
    expect(() => store.update(async () => undefined)).to.throw(TypeError, /synchronous fn/);
    await store.close();
    expect(() => store.update((d) => void d.count++)).to.throw(StoreClosedError);
  });

  it('a write that fails for another reason (PostgreSQL busy or away) is tried again without another change, with a WARNING', async () => {
    const token = newTokenHash();
    await lease(token, 1);
    const logger = new RecordingLogger();
    const db = await database(token, 1, [], logger, 300);
    const store = await openPostgresStore({ db, name: 'state', defaults: counterDefaults, schema: counterSchema, backupIntervalMs: 0, retryEveryMs: 100 });
    const blocker = await admin.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE botvisor_document IN ACCESS EXCLUSIVE MODE');
      store.update((d) => {
        d.count = 9;
      });
      await waitFor(() => logger.at('warning').some((r) => /could not write a cluster document/.test(r.msg)), { timeoutMs: 10_000, what: 'a WARNING about the failed write' });
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    await waitFor(async () => ((await row(token, 'state'))?.body as Counter | undefined)?.count === 9, { timeoutMs: 10_000, what: 'the pending change to be written once PostgreSQL answered again' });
    await store.close();
  });
});
