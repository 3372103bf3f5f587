/**
 * The resource usage (CPU, memory) of a whole process tree — a bot plus its CLI jobs — summed with pidusage.
 * Called for status requests only — never on the /health path.
 */
import pidusage from 'pidusage';

export interface TreeUsage {
  /** Percent of one core, summed over the tree. */
  cpu: number;
  memoryBytes: number;
}

export async function treeUsage(pids: number[]): Promise<TreeUsage> {
  if (pids.length === 0) return { cpu: 0, memoryBytes: 0 };
  let stats: Record<string, { cpu: number; memory: number } | null | undefined>;
  try {
    stats = (await pidusage(pids)) as Record<string, { cpu: number; memory: number } | null | undefined>;
  } catch {
    // One of them exited between listing and measuring: measure one by one.
    stats = {};
    for (const pid of pids) stats[pid] = await pidusage(pid).catch(() => undefined);
  }
  let cpu = 0;
  let memoryBytes = 0;
  for (const s of Object.values(stats)) {
    // pidusage answers null (it does not throw) for a PID of the list that is already gone.
    if (s === undefined || s === null) continue;
    cpu += s.cpu;
    memoryBytes += s.memory;
  }
  return { cpu: Math.round(cpu * 10) / 10, memoryBytes };
}
