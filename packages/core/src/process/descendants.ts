/**
 * Descendants of a process from one process-table snapshot: a consistent picture of the tree
 * at one moment, rather than a walk that races with processes exiting and forking.
 */
import { type ProcessInfo, snapshotProcesses } from './process-table.js';

/** Every live-or-zombie descendant of `pid` (children, grandchildren, …), parents before children. */
export function descendants(pid: number, table: ProcessInfo[] = snapshotProcesses()): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const p of table) {
    const list = children.get(p.ppid);
    if (list === undefined) children.set(p.ppid, [p]);
    else list.push(p);
  }
  const out: ProcessInfo[] = [];
  const queue = [pid];
  const seen = new Set<number>([pid]);
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const child of children.get(parent) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}
