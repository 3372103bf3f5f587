/**
 * The cluster document store's SQL: a bot's state and job records in PostgreSQL, one row per
 * (token hash, document name) holding the whole JSON document, plus its copies (timed backups,
 * and documents set aside because they failed their schema). Every write is ONE statement behind
 * the lease fence (lease-fence.ts): under an older epoch it changes nothing.
 *
 * `json`, not `jsonb`: the document comes back exactly as written, keys in their order, as a file
 * would.
 */
import { FENCE, FENCED } from './lease-fence.js';

/** Created by the first bot that opens a cluster document; concurrent creation is tolerated (CREATED_MEANWHILE). */
export const DOCUMENT_SCHEMA = `CREATE TABLE IF NOT EXISTS botvisor_document (
  token_hash text NOT NULL,
  name text NOT NULL,
  body json NOT NULL,
  written_epoch bigint NOT NULL,
  written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (token_hash, name)
);
CREATE TABLE IF NOT EXISTS botvisor_document_copy (
  token_hash text NOT NULL,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('backup', 'corrupt')),
  taken_at timestamptz NOT NULL,
  body json NOT NULL,
  PRIMARY KEY (token_hash, name, kind, taken_at)
)`;

/** $1 token hash, $2 document name. */
export const READ_DOCUMENT = `SELECT body, written_epoch FROM botvisor_document WHERE token_hash = $1 AND name = $2`;

/**
 * The whole document: $3 name, $4 its JSON text. Never overwrites what a newer epoch wrote. A row
 * comes back only if the fence held.
 */
export const WRITE_DOCUMENT = `WITH ${FENCE}
INSERT INTO botvisor_document AS d (token_hash, name, body, written_epoch)
SELECT $1, $3, $4::json, $2 WHERE ${FENCED}
ON CONFLICT (token_hash, name) DO UPDATE SET body = EXCLUDED.body, written_epoch = EXCLUDED.written_epoch, written_at = clock_timestamp()
WHERE d.written_epoch <= EXCLUDED.written_epoch
RETURNING 1`;

/**
 * Recovery of a document that failed its schema, in one step: the stored body is copied aside as
 * `corrupt` at $5 (epoch ms; never pruned) and replaced by $4. A row comes back only if the fence held.
 */
export const SET_ASIDE_AND_REPLACE = `WITH ${FENCE},
aside AS (INSERT INTO botvisor_document_copy (token_hash, name, kind, taken_at, body)
  SELECT token_hash, name, 'corrupt', to_timestamp($5::float8 / 1000), body FROM botvisor_document WHERE token_hash = $1 AND name = $3 AND ${FENCED}
  ON CONFLICT DO NOTHING)
UPDATE botvisor_document SET body = $4::json, written_epoch = $2, written_at = clock_timestamp()
WHERE token_hash = $1 AND name = $3 AND ${FENCED}
RETURNING 1`;

/**
 * A backup: $3 name, $4 JSON text, $5 taken at (epoch ms), $6 how many backups to keep in all
 * (the older ones go; this one is newer than every one kept). A row comes back only if the fence held.
 */
export const TAKE_BACKUP = `WITH ${FENCE},
pruned AS (DELETE FROM botvisor_document_copy WHERE token_hash = $1 AND name = $3 AND kind = 'backup' AND ${FENCED}
  AND taken_at NOT IN (SELECT taken_at FROM botvisor_document_copy WHERE token_hash = $1 AND name = $3 AND kind = 'backup' ORDER BY taken_at DESC LIMIT $6::int - 1))
INSERT INTO botvisor_document_copy (token_hash, name, kind, taken_at, body)
SELECT $1, $3, 'backup', to_timestamp($5::float8 / 1000), $4::json WHERE ${FENCED}
ON CONFLICT (token_hash, name, kind, taken_at) DO UPDATE SET body = EXCLUDED.body
RETURNING 1`;

/** $1 token hash, $2 name: the document's backups, newest first, with their bodies. */
export const READ_BACKUPS = `SELECT (extract(epoch FROM taken_at) * 1000)::float8 AS taken_at_ms, body
FROM botvisor_document_copy WHERE token_hash = $1 AND name = $2 AND kind = 'backup' ORDER BY taken_at DESC`;

/** $1 token hash, $2 name: when each backup was taken, newest first. */
export const LIST_BACKUPS = `SELECT (extract(epoch FROM taken_at) * 1000)::float8 AS taken_at_ms
FROM botvisor_document_copy WHERE token_hash = $1 AND name = $2 AND kind = 'backup' ORDER BY taken_at DESC`;
