/**
 * The lease rows in PostgreSQL: one row per polled token saying which node holds it, under which
 * epoch, until when. Every change is one statement (its own transaction), and every time is the
 * database's clock, so the nodes never compare their own clocks. This file only speaks SQL; when to
 * take, renew and let go is token-lease.ts.
 *
 * Why a row and not an advisory lock: an advisory lock lives as long as its connection, and across a
 * partition the server may keep a dead connection (and the lock) for minutes until TCP gives up, so
 * the standby could not take over within leaseMs; and the holder could not tell how long it still
 * owns the lock. A row with an expiry bounds both sides by the same number.
 */
import pg from 'pg';

export interface LeaseRow {
  holder: string;
  epoch: number;
  /** How long the row says the lease still lasts (database clock), when read; 0 if expired. */
  remainingMs: number;
}

export type TakeResult = { ours: true; epoch: number } | { ours: false; row: LeaseRow | undefined };

export interface LeaseStoreOptions {
  connectionString: string;
  /** A query (or a connection) that takes longer fails, and its connection is dropped: a partition must not hang a renewal. */
  queryTimeoutMs: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS botvisor_lease (
  token_hash text PRIMARY KEY,
  holder text NOT NULL,
  holder_instance text NOT NULL,
  epoch bigint NOT NULL,
  expires_at timestamptz NOT NULL,
  changed_at timestamptz NOT NULL
)`;

/**
 * Take or renew: a free (expired) row, or our own, becomes ours for `leaseMs`. The epoch goes up on
 * every change of holder and on every re-take after an expiry; a renewal in time keeps it.
 * `holder_instance` is this supervisor process, so a restarted node waits for the expiry too.
 */
const TAKE = `INSERT INTO botvisor_lease AS l (token_hash, holder, holder_instance, epoch, expires_at, changed_at)
VALUES ($1, $2, $3, 1, clock_timestamp() + $4 * interval '1 millisecond', clock_timestamp())
ON CONFLICT (token_hash) DO UPDATE SET
  epoch = CASE WHEN l.holder_instance = $3 AND l.expires_at > clock_timestamp() THEN l.epoch ELSE l.epoch + 1 END,
  changed_at = CASE WHEN l.holder_instance = $3 AND l.expires_at > clock_timestamp() THEN l.changed_at ELSE clock_timestamp() END,
  holder = $2,
  holder_instance = $3,
  expires_at = clock_timestamp() + $4 * interval '1 millisecond'
WHERE l.holder_instance = $3 OR l.expires_at <= clock_timestamp()
RETURNING epoch`;

const READ = `SELECT holder, epoch, greatest(0, extract(epoch FROM (expires_at - clock_timestamp())) * 1000)::float8 AS remaining_ms
FROM botvisor_lease WHERE token_hash = $1`;

/** Ends our lease at once (a clean stop), so the standby need not wait for the expiry. */
const RELEASE = `UPDATE botvisor_lease SET expires_at = clock_timestamp() WHERE token_hash = $1 AND holder_instance = $2 AND expires_at > clock_timestamp()`;

/** PostgreSQL error codes of two nodes creating the table at the same moment. */
const CREATED_MEANWHILE = new Set(['23505', '42P07']);

export class LeaseStore {
  private readonly pool: pg.Pool;
  private schemaReady = false;

  constructor(o: LeaseStoreOptions) {
    this.pool = new pg.Pool({
      connectionString: o.connectionString,
      max: 2,
      connectionTimeoutMillis: o.queryTimeoutMs,
      query_timeout: o.queryTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'botvisor',
    });
    // An idle connection that breaks (a restarted database) must not crash the supervisor; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async take(tokenHash: string, node: string, instance: string, leaseMs: number): Promise<TakeResult> {
    await this.ensureSchema();
    const taken = await this.pool.query<{ epoch: string }>(TAKE, [tokenHash, node, instance, leaseMs]);
    const row = taken.rows[0];
    if (row !== undefined) return { ours: true, epoch: Number(row.epoch) };
    return { ours: false, row: await this.read(tokenHash) };
  }

  async read(tokenHash: string): Promise<LeaseRow | undefined> {
    await this.ensureSchema();
    const r = await this.pool.query<{ holder: string; epoch: string; remaining_ms: number }>(READ, [tokenHash]);
    const row = r.rows[0];
    return row === undefined ? undefined : { holder: row.holder, epoch: Number(row.epoch), remainingMs: row.remaining_ms };
  }

  async release(tokenHash: string, instance: string): Promise<void> {
    await this.pool.query(RELEASE, [tokenHash, instance]);
  }

  /** A round trip, for doctor: the database's clock in ms since the epoch. */
  async serverTimeMs(): Promise<number> {
    const r = await this.pool.query<{ now_ms: number }>(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms`);
    return r.rows[0]?.now_ms ?? Number.NaN;
  }

  async count(): Promise<number> {
    const r = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM botvisor_lease');
    return Number(r.rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async ensureSchema(): Promise<void> {
    if (this.schemaReady) return;
    try {
      await this.pool.query(SCHEMA);
    } catch (err) {
      if (!CREATED_MEANWHILE.has((err as { code?: string }).code ?? '')) throw err;
    }
    this.schemaReady = true;
  }
}
