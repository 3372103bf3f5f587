/**
 * A bot run's connection to its cluster documents (state, job records): one small pool for all of
 * them, the token and the lease epoch the run writes under, and the one place that turns a
 * refused write into "this node lost the token" (told once, whichever document hit it). Opening a
 * document is postgres-store.ts; the SQL is document-tables.ts.
 */
import type { Logger } from '@botvisor/core';
import type pg from 'pg';
import { DOCUMENT_SCHEMA } from './document-tables.js';
import { StoreFencedError } from './lease-fenced-error.js';
import { openLeasePool, readLeaseEpoch } from './lease-pool.js';
import { LeaseRefusal } from './lease-refusal.js';

export { StoreFencedError };

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
  private readonly refusal: LeaseRefusal<StoreFencedError>;

  private constructor(
    private readonly pool: pg.Pool,
    readonly o: DocumentDatabaseOptions,
  ) {
    this.refusal = new LeaseRefusal((current) => new StoreFencedError(o.epoch, current), o.onFenced, () => readLeaseEpoch(pool, o.tokenHash));
  }

  /** Connects, creates the tables if this is the first bot to use them, and checks that the run's epoch is the lease's. */
  static async open(o: DocumentDatabaseOptions): Promise<DocumentDatabase> {
    const pool = await openLeasePool({
      ...o,
      applicationName: 'botvisor-bot-documents',
      schema: DOCUMENT_SCHEMA,
      fenced: (current) => new StoreFencedError(o.epoch, current),
    });
    return new DocumentDatabase(pool, o);
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
    return this.refusal.error;
  }

  /** A read, or any statement whose result is all the caller needs. */
  query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params);
  }

  /** A fenced write ($1 token hash and $2 epoch are put first): resolves if it landed, throws StoreFencedError if refused. */
  async write(sql: string, params: unknown[]): Promise<void> {
    this.refusal.throwIfRefused();
    const r = await this.pool.query(sql, [this.o.tokenHash, this.o.epoch, ...params]);
    if (r.rowCount !== 1) await this.refusal.refuse();
  }

  /** Disconnects. The stores must have been closed (flushed) first. */
  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
