/**
 * One look at the process table, and at the tree cookie each process carries, shared by every
 * caller within `maxAgeMs`. The supervisor rescans each bot's tree every few seconds (its
 * descendants, and whatever carries its cookie); the bots of a fleet start together, so their
 * rescans come due together, and one walk of `/proc` answers them all instead of one walk per bot
 * (issue 18: ten bots' walks kept the idle supervisor's heap ~3 MB larger). With `maxAgeMs` 0 every
 * call looks afresh, as snapshotProcesses and findByCookie do. Linux reads `/proc/<pid>/environ`;
 * elsewhere no process is found by cookie (as findByCookie).
 */
import { TREE_COOKIE_VAR } from './contract.js';
import { isDeadState } from './identity.js';
import { processEnvirons } from './proc-environ.js';
import { type ProcessInfo, readProcess, snapshotProcesses } from './process-table.js';

interface Look<T> {
  at: number;
  value: T;
}

const PREFIX = Buffer.from(`${TREE_COOKIE_VAR}=`);

/** The value of `BOTVISOR_TREE` in an environ block (NUL-separated `NAME=value`), or undefined. */
export function treeCookieIn(environ: Buffer): string | undefined {
  let from = 0;
  while (from < environ.length) {
    const end = environ.indexOf(0, from);
    const stop = end < 0 ? environ.length : end;
    if (stop - from >= PREFIX.length && environ.subarray(from, from + PREFIX.length).equals(PREFIX)) return environ.toString('utf8', from + PREFIX.length, stop);
    from = stop + 1;
  }
  return undefined;
}

/** Every process (except this one, zombies excluded) that carries a tree cookie, by cookie. Linux only (else empty). */
function processesByCookie(): Map<string, ProcessInfo[]> {
  const byCookie = new Map<string, ProcessInfo[]>();
  for (const { pid, environ } of processEnvirons()) {
    const cookie = treeCookieIn(environ);
    if (cookie === undefined || cookie.length === 0) continue;
    const info = readProcess(pid);
    if (info === undefined || isDeadState(info.state)) continue;
    const list = byCookie.get(cookie);
    if (list === undefined) byCookie.set(cookie, [info]);
    else list.push(info);
  }
  return byCookie;
}

export class ProcessScan {
  private tableLook: Look<ProcessInfo[]> | undefined;
  private cookieLook: Look<Map<string, ProcessInfo[]>> | undefined;

  constructor(
    private readonly maxAgeMs: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every process, as snapshotProcesses, taken at most `maxAgeMs` ago. */
  table(): ProcessInfo[] {
    this.tableLook = this.fresh(this.tableLook, snapshotProcesses);
    return this.tableLook.value;
  }

  /** The processes carrying `cookie`, as findByCookie, looked at most `maxAgeMs` ago. */
  withCookie(cookie: string): ProcessInfo[] {
    this.cookieLook = this.fresh(this.cookieLook, processesByCookie);
    return this.cookieLook.value.get(cookie) ?? [];
  }

  private fresh<T>(look: Look<T> | undefined, take: () => T): Look<T> {
    const now = this.now();
    if (look !== undefined && now - look.at <= this.maxAgeMs() && now >= look.at) return look;
    return { at: now, value: take() };
  }
}
