/**
 * Opening a bot run's PostgreSQL pool for fenced writes: one connection with the run's timeouts,
 * the tables created if this is the first bot to use them, and the check that the run's epoch is
 * still the lease's (a run that lost the token before it began writes nothing). Imports pg: only
 * cluster-mode modules may import this file.
 */
import pg from 'pg';
import { CREATED_MEANWHILE, READ_EPOCH } from './lease-fence.js';
import type { LeaseFencedError } from './lease-fenced-error.js';

export interface LeasePoolOptions {
  /** Carries a password: registered with the log redaction by the caller, never logged here. */
  connectionString: string;
  tokenHash: string;
  /** The lease epoch this run holds, from the supervisor's hello. */
  epoch: number;
  /** A statement (or a connection) that takes longer fails, its connection dropped. Default 5 s. */
  queryTimeoutMs?: number;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  /** Creates the tables; run by every opener (two at once are tolerated: CREATED_MEANWHILE). */
  schema: string;
  /** Runs after the schema, before the epoch check. */
  afterSchema?: (pool: pg.Pool) => Promise<unknown>;
  /** The error for an epoch that is not the lease's. */
  fenced: (currentEpoch: number | undefined) => LeaseFencedError;
}

/** A pool ready for fenced writes under `o.epoch`; on any failure it is closed and the error thrown. */
export async function openLeasePool(o: LeasePoolOptions): Promise<pg.Pool> {
  const timeoutMs = o.queryTimeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString: o.connectionString,
    max: 1,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    keepAlive: true,
    application_name: o.applicationName,
  });
  // A connection that breaks while idle must not crash the bot; the next statement reconnects (or fails and says so).
  pool.on('error', () => undefined);
  try {
    try {
      await pool.query(o.schema);
    } catch (err) {
      if (!CREATED_MEANWHILE.has((err as { code?: string }).code ?? '')) throw err;
    }
    await o.afterSchema?.(pool);
    const current = await readLeaseEpoch(pool, o.tokenHash);
    if (current !== o.epoch) throw o.fenced(current);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return pool;
}

/** The token's lease epoch now (undefined: no lease was ever taken for it). */
export async function readLeaseEpoch(pool: pg.Pool, tokenHash: string): Promise<number | undefined> {
  const row = (await pool.query<{ epoch: string }>(READ_EPOCH, [tokenHash])).rows[0];
  return row === undefined ? undefined : Number(row.epoch);
}
