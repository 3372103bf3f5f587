/**
 * The cluster inbox's refusal: a write was fenced out because the token's lease has a newer epoch
 * than this run's. Its own file so that a bot can recognise it without loading the PostgreSQL
 * client (postgres-inbox.ts is imported only in cluster mode).
 */

/** A write was refused: the token's lease has a newer epoch than this run's. */
export class InboxFencedError extends Error {
  override readonly name = 'InboxFencedError';
  constructor(
    readonly epoch: number,
    readonly currentEpoch: number | undefined,
  ) {
    super(`the token's cluster lease moved on (this run writes under epoch ${epoch}, the lease is at ${currentEpoch ?? 'none'}): another node polls it now`);
  }
}
