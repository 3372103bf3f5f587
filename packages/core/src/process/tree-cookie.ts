/**
 * The tree cookie: an environment variable (`BOTVISOR_TREE=<id>`) that every process botvisor
 * starts carries and that its descendants inherit. A process that left the tree (setsid, then
 * its parent exited, so init adopted it) keeps the cookie, so a scan of `/proc/<pid>/environ`
 * still finds it — the technique of Jenkins' ProcessTreeKiller.
 *
 * Linux only: other platforms do not expose another process's environment; there the scan
 * returns nothing and tree kill relies on the process tree alone.
 */
import { randomBytes } from 'node:crypto';
import { TREE_COOKIE_VAR } from './contract.js';
import { isDeadState } from './identity.js';
import { processEnvirons } from './proc-environ.js';
import type { ProcessInfo } from './process-table.js';
import { readProcess } from './process-table.js';


/** A fresh cookie id: unique per supervisor run (or per test). */
export function newTreeCookie(): string {
  return randomBytes(9).toString('base64url');
}

/** `env` plus the cookie, for `spawn`/`fork` options. */
export function withTreeCookie(env: NodeJS.ProcessEnv, cookie: string): NodeJS.ProcessEnv {
  return { ...env, [TREE_COOKIE_VAR]: cookie };
}

/**
 * Every process (except the caller) whose environment has `name=value`, zombies excluded. Reads
 * `/proc/<pid>/environ`, which survives setsid and re-parenting to init. Linux only (else empty).
 */
export function findByEnv(name: string, value: string): ProcessInfo[] {
  if (value.length === 0) return [];
  const needle = Buffer.from(`${name}=${value}\0`);
  const afterNul = Buffer.concat([Buffer.from([0]), needle]);
  const out: ProcessInfo[] = [];
  for (const { pid, environ } of processEnvirons()) {
    // The first variable has no NUL before it; every other one does.
    if (!environ.subarray(0, needle.length).equals(needle) && environ.indexOf(afterNul) < 0) continue;
    const info = readProcess(pid);
    if (info !== undefined && !isDeadState(info.state)) out.push(info);
  }
  return out;
}

/** Every process (except the caller) whose environment carries `BOTVISOR_TREE=<cookie>`. */
export function findByCookie(cookie: string): ProcessInfo[] {
  return findByEnv(TREE_COOKIE_VAR, cookie);
}
