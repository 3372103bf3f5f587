/**
 * Tree kill: ends a process and everything it started, for sure, without ever hitting an
 * unrelated process that reused a PID.
 *
 * SIGTERM (and SIGCONT, so a stopped process can act on it) to the root's process group and to
 * every descendant, wait `graceMs`, then SIGKILL whatever is left and rescan — for children
 * forked meanwhile and for processes carrying the tree cookie that escaped the tree — until
 * nothing is alive or `deadlineMs` has passed. Every signal is preceded by a start-time check.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { processKey as key } from './contract.js';
import { descendants } from './descendants.js';
import { isAlive, isDeadState, type ProcessRef } from './identity.js';
import { type ProcessInfo, readProcess, snapshotProcesses } from './process-table.js';
import { findByCookie } from './tree-cookie.js';

export interface KillTreeOptions {
  /** Time between SIGTERM and SIGKILL. Default 3000 ms. */
  graceMs?: number;
  /** Total time budget, counted from the call. Default `graceMs + 5000`. */
  deadlineMs?: number;
  /** Also kill every process carrying this tree cookie (see tree-cookie.ts). */
  cookie?: string;
  /** How often to look again while waiting. Default 50 ms. */
  pollMs?: number;
}

export interface KilledProcess extends ProcessRef {
  command: string;
}

export interface KillTreeResult {
  /** Processes of the tree that were alive when found and are dead now. */
  killed: KilledProcess[];
  /** Processes still alive at the deadline (or that refused our signal, EPERM). */
  survivors: KilledProcess[];
}

function sendIfSame(ref: ProcessRef, signal: NodeJS.Signals): void {
  if (ref.pid === process.pid || !isAlive(ref)) return;
  try {
    process.kill(ref.pid, signal);
  } catch {
    // ESRCH: it exited just now; EPERM: not ours, and it will show up as a survivor.
  }
}

function signalGroup(root: ProcessRef, signal: NodeJS.Signals): void {
  const info = readProcess(root.pid);
  const self = readProcess(process.pid);
  // Only a group the root leads, and never our own group.
  if (info === undefined || info.startTime !== root.startTime || info.pgid !== root.pid) return;
  if (self !== undefined && self.pgid === info.pgid) return;
  try {
    process.kill(-root.pid, signal);
  } catch {
    // the group is already empty
  }
}

/** Kills every process carrying the tree cookie (and their descendants): for leftovers whose root is already gone. */
export function killByCookie(cookie: string, options: Omit<KillTreeOptions, 'cookie'> = {}): Promise<KillTreeResult> {
  return killTreeFrom(null, { ...options, cookie });
}

export function killTree(root: ProcessRef, options: KillTreeOptions = {}): Promise<KillTreeResult> {
  return killTreeFrom(root, options);
}

async function killTreeFrom(root: ProcessRef | null, options: KillTreeOptions): Promise<KillTreeResult> {
  const graceMs = options.graceMs ?? 3000;
  const deadline = Date.now() + (options.deadlineMs ?? graceMs + 5000);
  const pollMs = options.pollMs ?? 50;
  const members = new Map<string, KilledProcess>();

  const add = (p: ProcessInfo): boolean => {
    if (p.pid === process.pid || isDeadState(p.state) || members.has(key(p))) return false;
    members.set(key(p), { pid: p.pid, startTime: p.startTime, command: p.command });
    return true;
  };

  /** Finds the tree as it is now; returns the members it had not seen before. */
  const collect = (): KilledProcess[] => {
    const table = snapshotProcesses();
    const byPid = new Map(table.map((p) => [p.pid, p]));
    const fresh: KilledProcess[] = [];
    const rootNow = root === null ? undefined : byPid.get(root.pid);
    if (rootNow !== undefined && rootNow.startTime === root?.startTime && add(rootNow)) fresh.push(members.get(key(rootNow)) as KilledProcess);
    for (const member of [...members.values()]) {
      const now = byPid.get(member.pid);
      if (now === undefined || now.startTime !== member.startTime) continue;
      for (const d of descendants(member.pid, table)) if (add(d)) fresh.push(members.get(key(d)) as KilledProcess);
    }
    if (options.cookie !== undefined) {
      for (const p of findByCookie(options.cookie)) if (add(p)) fresh.push(members.get(key(p)) as KilledProcess);
    }
    return fresh;
  };
  const alive = (): KilledProcess[] => [...members.values()].filter((m) => isAlive(m));

  collect();
  if (members.size === 0) return { killed: [], survivors: [] }; // nothing to do: the common case after a clean exit
  if (root !== null) signalGroup(root, 'SIGTERM');
  for (const m of members.values()) {
    sendIfSame(m, 'SIGTERM');
    sendIfSame(m, 'SIGCONT');
  }

  const graceEnd = Math.min(Date.now() + graceMs, deadline);
  while (Date.now() < graceEnd) {
    for (const m of collect()) sendIfSame(m, 'SIGTERM');
    if (alive().length === 0) break;
    await sleep(pollMs);
  }

  for (;;) {
    collect();
    const left = alive();
    if (left.length === 0 || Date.now() >= deadline) break;
    if (root !== null) signalGroup(root, 'SIGKILL');
    for (const m of left) sendIfSame(m, 'SIGKILL');
    await sleep(pollMs);
  }

  const survivors = alive();
  const survivorKeys = new Set(survivors.map(key));
  return { killed: [...members.values()].filter((m) => !survivorKeys.has(key(m))), survivors };
}
