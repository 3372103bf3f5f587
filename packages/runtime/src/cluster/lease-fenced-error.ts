/**
 * A bot's cluster write refused by the lease fence (lease-fence.ts): the token's lease has a newer
 * epoch than this run's, so another node has the token now. Free of the PostgreSQL client, so a
 * bot can recognise it without loading pg (the cluster modules are imported only in cluster mode).
 */

/** A write was refused: the token's lease has a newer epoch than this run's. */
export class LeaseFencedError extends Error {
  override readonly name: string = 'LeaseFencedError';
  constructor(
    readonly epoch: number,
    readonly currentEpoch: number | undefined,
    /** What the other node does with the token, for the message. */
    otherNode: string,
  ) {
    super(`the token's cluster lease moved on (this run writes under epoch ${epoch}, the lease is at ${currentEpoch ?? 'none'}): another node ${otherNode} now`);
  }
}

/** A cluster inbox write was refused (postgres-inbox.ts). */
export class InboxFencedError extends LeaseFencedError {
  override readonly name = 'InboxFencedError';
  constructor(epoch: number, currentEpoch: number | undefined) {
    super(epoch, currentEpoch, 'polls it');
  }
}

/** A cluster document write was refused (document-database.ts). */
export class StoreFencedError extends LeaseFencedError {
  override readonly name = 'StoreFencedError';
  constructor(epoch: number, currentEpoch: number | undefined) {
    super(epoch, currentEpoch, 'holds it');
  }
}
