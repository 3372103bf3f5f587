export { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_RESTART, JOB_MARKER_VAR, processKey, REASON_LINE_PREFIX, SKIP_TELEGRAM_LOCK_VAR, STANDBY_VAR, TREE_COOKIE_VAR } from './contract.js';
export { descendants } from './descendants.js';
export { isAlive, isDeadState, type ProcessRef, refOf, selfRef } from './identity.js';
export { type KilledProcess, type KillTreeOptions, type KillTreeResult, killByCookie, killTree } from './kill-tree.js';
export { ProcessScan, treeCookieIn } from './process-scan.js';
export { type ProcessInfo, parseProcStat, readProcess, snapshotProcesses } from './process-table.js';
export { findByCookie, findByEnv, newTreeCookie, withTreeCookie } from './tree-cookie.js';
