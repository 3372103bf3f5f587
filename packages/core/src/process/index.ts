export { descendants } from './descendants.js';
export { isAlive, isDeadState, type ProcessRef, refOf, selfRef } from './identity.js';
export { type KilledProcess, type KillTreeOptions, type KillTreeResult, killByCookie, killTree } from './kill-tree.js';
export { type ProcessInfo, parseProcStat, readProcess, snapshotProcesses } from './process-table.js';
export { findByCookie, findByEnv, newTreeCookie, TREE_COOKIE_VAR, withTreeCookie } from './tree-cookie.js';
