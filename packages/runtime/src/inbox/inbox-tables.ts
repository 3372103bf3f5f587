/**
 * The cluster inbox's SQL: its tables and the statements that read and write them. Every write
 * is ONE statement whose first step locks the token's lease row (FOR SHARE) only if it still
 * carries the writer's epoch; every other step runs only if that lock was taken. So a write under
 * an older epoch changes nothing, in the same transaction, and a supervisor that takes the lease
 * (an UPDATE of that row) waits for a write in flight instead of racing it: once the new holder's
 * take has committed, every older write has either landed or been refused. One statement, not a
 * BEGIN … COMMIT, because the server runs it to its end without waiting for the client: a node
 * cut off mid-write cannot leave the lease row locked (and the other node's take waiting) until
 * TCP gives up. The fence itself is cluster/lease-fence.ts; the lease table is the supervisor's.
 */
import { FENCE, FENCED } from '../cluster/lease-fence.js';


/** Created by the first bot that opens a cluster inbox; concurrent creation is tolerated (CREATED_MEANWHILE). */
export const INBOX_SCHEMA = `CREATE TABLE IF NOT EXISTS botvisor_inbox (
  token_hash text PRIMARY KEY,
  bot_id text NOT NULL,
  update_offset bigint NOT NULL DEFAULT 0,
  clean_shutdown boolean NOT NULL DEFAULT true,
  written_epoch bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS botvisor_inbox_entry (
  token_hash text NOT NULL,
  seq bigint NOT NULL,
  update_id bigint NOT NULL,
  body json NOT NULL,
  received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  started boolean NOT NULL DEFAULT false,
  crashes integer NOT NULL DEFAULT 0,
  PRIMARY KEY (token_hash, seq)
);
CREATE TABLE IF NOT EXISTS botvisor_inbox_recent (
  token_hash text NOT NULL,
  seq bigint NOT NULL,
  update_id bigint NOT NULL,
  fingerprint text NOT NULL,
  PRIMARY KEY (token_hash, seq)
)`;

/** The token's row, made if missing (a fresh inbox: offset 0, cleanly closed). Not fenced: it changes nothing that exists. */
export const ENSURE_ROW = `INSERT INTO botvisor_inbox (token_hash, bot_id) VALUES ($1, $2) ON CONFLICT (token_hash) DO NOTHING`;

export const READ_ROW = `SELECT bot_id, update_offset, clean_shutdown FROM botvisor_inbox WHERE token_hash = $1`;
export const READ_ENTRIES = `SELECT seq, body, started, crashes FROM botvisor_inbox_entry WHERE token_hash = $1 ORDER BY seq`;
/** The newest $2 accepted updates, oldest first. */
export const READ_RECENT = `SELECT seq, update_id, fingerprint FROM (SELECT seq, update_id, fingerprint FROM botvisor_inbox_recent WHERE token_hash = $1 ORDER BY seq DESC LIMIT $2) r ORDER BY seq`;
/** The highest sequence number used so far: new rows are numbered after it. */
export const READ_LAST_SEQ = `SELECT greatest((SELECT max(seq) FROM botvisor_inbox_entry WHERE token_hash = $1), (SELECT max(seq) FROM botvisor_inbox_recent WHERE token_hash = $1), 0) AS seq`;

/**
 * A polled batch: $3 the new entries `[{seq, update_id, body}]`, $4 the new recent ids
 * `[{seq, update_id, fingerprint}]`, $5 the offset that confirms the batch, $6 recent ids up to
 * this seq are forgotten. A row comes back only if the fence held.
 */
export const ACCEPT = `WITH ${FENCE},
entries AS (INSERT INTO botvisor_inbox_entry (token_hash, seq, update_id, body)
  SELECT $1, x.seq, x.update_id, x.body FROM json_to_recordset($3::json) AS x(seq bigint, update_id bigint, body json) WHERE ${FENCED}),
recent AS (INSERT INTO botvisor_inbox_recent (token_hash, seq, update_id, fingerprint)
  SELECT $1, x.seq, x.update_id, x.fingerprint FROM json_to_recordset($4::json) AS x(seq bigint, update_id bigint, fingerprint text) WHERE ${FENCED}),
forgotten AS (DELETE FROM botvisor_inbox_recent WHERE token_hash = $1 AND seq <= $6 AND ${FENCED})
UPDATE botvisor_inbox SET update_offset = $5, written_epoch = $2 WHERE token_hash = $1 AND ${FENCED} RETURNING 1`;

/**
 * Handling's marks: $3 entries whose flags changed `[{seq, started, crashes}]`, $4 the seqs of
 * settled (or quarantined) entries, which leave; $5 the clean-shutdown flag. The seqs of $3 and
 * $4 never overlap. A row comes back only if the fence held.
 */
export const CHANGE = `WITH ${FENCE},
changed AS (UPDATE botvisor_inbox_entry e SET started = x.started, crashes = x.crashes
  FROM json_to_recordset($3::json) AS x(seq bigint, started boolean, crashes integer) WHERE e.token_hash = $1 AND e.seq = x.seq AND ${FENCED}),
settled AS (DELETE FROM botvisor_inbox_entry WHERE token_hash = $1 AND seq = ANY($4::bigint[]) AND ${FENCED})
UPDATE botvisor_inbox SET clean_shutdown = $5, written_epoch = $2 WHERE token_hash = $1 AND ${FENCED} RETURNING 1`;
