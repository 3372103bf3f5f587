/**
 * Finds which processes belong to one job without its root. Members are those carrying the job's
 * marker in their environment (Linux: `/proc/<pid>/environ`, which survives `setsid` or
 * re-parenting to init), plus those still in the job's process group (any platform). Needed once the root has
 * exited — tree kill starts from a live root — and for grandchildren that escaped the tree.
 */
import { findByEnv, isDeadState, type ProcessInfo, processKey, snapshotProcesses } from '@botvisor/core';
import { JOB_MARKER_VAR } from '../environment/job-env.js';

/** Live processes (not zombies) carrying `BOTVISOR_JOB=<marker>`; empty off Linux. */
export function findByJobMarker(marker: string): ProcessInfo[] {
  return findByEnv(JOB_MARKER_VAR, marker);
}

/** Live members of process group `pgid` (the job's root led it), except this process. */
export function processGroupMembers(pgid: number): ProcessInfo[] {
  return snapshotProcesses().filter((p) => p.pgid === pgid && p.pid !== process.pid && !isDeadState(p.state));
}

/** Everything left of a job: its group and its marker, without duplicates. */
export function jobMembers(pgid: number | undefined, marker: string): ProcessInfo[] {
  const found = new Map<string, ProcessInfo>();
  const add = (p: ProcessInfo): void => void found.set(processKey(p), p);
  if (pgid !== undefined) processGroupMembers(pgid).forEach(add);
  findByJobMarker(marker).forEach(add);
  return [...found.values()];
}
