/**
 * What the pipeline needs of an inbox, whichever keeps it: the lowdb file of one machine
 * (inbox.ts) or the token's shared rows in PostgreSQL in cluster mode (postgres-inbox.ts). Both
 * promise the same: a batch is durable before its offset is confirmed, leftovers come back at
 * start (marked `redelivered` where a handler may have seen them), an update handed out again is
 * recognised and skipped.
 */
import type { Update } from 'node-telegram-bot-api';
import type { HandlingLedger } from '../dispatch/dispatcher.js';
import type { AcceptedUpdate, Recovery } from './inbox.js';

export interface UpdateInbox extends HandlingLedger {
  /** The offset to confirm with the next getUpdates. */
  readonly offset: number;
  readonly pendingCount: number;
  /** The previous run's unfinished updates, in arrival order; marks this run as not yet cleanly closed. */
  recover(orderingKey: (update: Update) => string): Promise<Recovery>;
  /** Stores a batch durably and sets the offset that confirms it; returns the updates not handed out before, each marked `redelivered` if an earlier run may have handled it. */
  accept(updates: readonly Update[]): Promise<AcceptedUpdate[]>;
  flush(): Promise<void>;
  /** Records a clean shutdown and closes. */
  close(): Promise<void>;
  /** `close`, for a reload's new process that opens it next, at once (inside the poll gap): may leave work to that opener. */
  handOver(): Promise<void>;
}
