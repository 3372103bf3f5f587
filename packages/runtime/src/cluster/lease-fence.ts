/**
 * The fence every cluster write of a bot starts with, as SQL fragments: a CTE that locks the
 * token's lease row (FOR SHARE) only if it still carries the writer's epoch, and the condition
 * every other step of the statement runs under. So a write under an older epoch changes nothing,
 * in the same transaction, and a supervisor taking the lease (an UPDATE of that row) waits for a
 * write in flight instead of racing it. Used as `WITH ${FENCE}, … WHERE ${FENCED}`, always with
 * $1 = the token hash and $2 = the writer's epoch. The lease table is the supervisor's
 * (supervisor/src/cluster/lease-store.ts).
 */

/** $1 token hash, $2 the writer's epoch. Empty unless that epoch is still the lease's. */
export const FENCE = `fence AS (SELECT 1 FROM botvisor_lease WHERE token_hash = $1 AND epoch = $2 FOR SHARE)`;

/** True only if the fence's lock was taken. */
export const FENCED = 'EXISTS (SELECT 1 FROM fence)';

/** The lease's epoch now (no row: no lease was ever taken for the token). */
export const READ_EPOCH = `SELECT epoch FROM botvisor_lease WHERE token_hash = $1`;

/** PostgreSQL error codes of two bots creating the same tables at the same moment. */
export const CREATED_MEANWHILE = new Set(['23505', '42P07']);
