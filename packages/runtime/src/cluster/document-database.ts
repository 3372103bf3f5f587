/**
 * A bot run's connection to its cluster documents (state, job records): one small pool for all of
 * them, the token and the lease epoch the run writes under, and the one place that turns a
 * refused write into "this node lost the token" (told once, whichever document hit it). Opening a
 * document is postgres-store.ts; the SQL is document-tables.ts.
 */
import type { Logger } from '@botvisor/core';
import pg from 'pg';
import { DOCUMENT_SCHEMA } from './document-tables.js';
import { CREATED_MEANWHILE, READ_EPOCH } from './lease-fence.js';

/** A document write was refused: the token's lease has a newer epoch than this run's. */
export class StoreFencedError extends Error {
  override readonly name = 'StoreFencedError';
  constructor(
    readonly epoch: number,
    readonly currentEpoch: number | undefined,
  ) {
    super(`the token's cluster lease moved on (this run writes under epoch ${epoch}, the lease is at ${currentEpoch ?? 'none'}): another node holds it now`);
  }
}

export interface DocumentDatabaseOptions {
  /** Carries a password: registered with the log redaction by the caller, never logged here. */
  connectionString: string;
  tokenHash: string;
  /** The lease epoch this run holds, from the supervisor's hello. */
  epoch: number;
  logger: Logger;
  /** The first refused write (at most once): the bot must stop. */
  onFenced: (err: StoreFencedError) => void;
  /** A statement (or a connection) that takes longer fails, its connection dropped. Default 5 s. */
  queryTimeoutMs?: number;
}

export class DocumentDatabase {
  private fenced: StoreFencedError | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    readonly o: DocumentDatabaseOptions,
  ) {}

  /** Connects, creates the tables if this is the first bot to use them, and checks that the run's epoch is the lease's. */
  static async open(o: DocumentDatabaseOptions): Promise<DocumentDatabase> {
    const timeoutMs = o.queryTimeoutMs ?? 5000;
    const pool = new pg.Pool({
      connectionString: o.connectionString,
      max: 1,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      keepAlive: true,
      application_name: 'botvisor-bot-documents',
    });
    // A connection that breaks while idle must not crash the bot; the next statement reconnects (or fails and says so).
    pool.on('error', () => undefined);
    const db = new DocumentDatabase(pool, o);
    try {
      try {
        await pool.query(DOCUMENT_SCHEMA);
      } catch (err) {
        if (!CREATED_MEANWHILE.has((err as { code?: string }).code ?? '')) throw err;
      }
      const current = await db.currentEpoch();
      if (current !== o.epoch) throw new StoreFencedError(o.epoch, current);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return db;
  }

  get epoch(): number {
    return this.o.epoch;
  }

  get tokenHash(): string {
    return this.o.tokenHash;
  }

  get logger(): Logger {
    return this.o.logger;
  }

  /** Set once a write was refused: every later write fails at once with it. */
  get fencedError(): StoreFencedError | undefined {
    return this.fenced;
  }

  /** A read, or any statement whose result is all the caller needs. */
  query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params);
  }

  /** A fenced write ($1 token hash and $2 epoch are put first): resolves if it landed, throws StoreFencedError if refused. */
  async write(sql: string, params: unknown[]): Promise<void> {
    if (this.fenced !== undefined) throw this.fenced;
    const r = await this.pool.query(sql, [this.o.tokenHash, this.o.epoch, ...params]);
    if (r.rowCount === 1) return;
    const err = this.fenced ?? new StoreFencedError(this.o.epoch, await this.currentEpoch().catch(() => undefined));
    if (this.fenced === undefined) {
      this.fenced = err;
      this.o.onFenced(err);
    }
    throw err;
  }

  /** Disconnects. The stores must have been closed (flushed) first. */
  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private async currentEpoch(): Promise<number | undefined> {
    const row = (await this.pool.query<{ epoch: string }>(READ_EPOCH, [this.o.tokenHash])).rows[0];
    return row === undefined ? undefined : Number(row.epoch);
  }
}
