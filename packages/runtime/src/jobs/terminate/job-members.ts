/**
 * Which processes belong to one job, found without its root: those carrying the job's marker in
 * their environment (Linux: `/proc/<pid>/environ`, which survives `setsid` and re-parenting to
 * init) and those still in the job's process group (any platform). Needed once the root has
 * exited — tree kill starts from a live root — and for grandchildren that escaped the tree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isDeadState, type ProcessInfo, readProcess, snapshotProcesses } from '@botvisor/core';
import { JOB_MARKER_VAR } from '../environment/job-env.js';

function carriesMarker(pid: number, needle: Buffer, afterNul: Buffer): boolean {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false; // gone, or not ours to read
  }
  return environ.subarray(0, needle.length).equals(needle) || environ.indexOf(afterNul) >= 0;
}

/** Live processes (not zombies) carrying `BOTVISOR_JOB=<marker>`; empty off Linux. */
export function findByJobMarker(marker: string): ProcessInfo[] {
  if (process.platform !== 'linux' || marker === '') return [];
  const needle = Buffer.from(`${JOB_MARKER_VAR}=${marker}\0`);
  const afterNul = Buffer.concat([Buffer.from([0]), needle]);
  const out: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    if (!carriesMarker(pid, needle, afterNul)) continue;
    const info = readProcess(pid);
    if (info !== undefined && !isDeadState(info.state)) out.push(info);
  }
  return out;
}

/** Live members of process group `pgid` (the job's root led it), except this process. */
export function processGroupMembers(pgid: number): ProcessInfo[] {
  return snapshotProcesses().filter((p) => p.pgid === pgid && p.pid !== process.pid && !isDeadState(p.state));
}

/** Everything left of a job: its group and its marker, without duplicates. */
export function jobMembers(pgid: number | undefined, marker: string): ProcessInfo[] {
  const found = new Map<string, ProcessInfo>();
  const add = (p: ProcessInfo): void => void found.set(`${p.pid}@${p.startTime}`, p);
  if (pgid !== undefined) processGroupMembers(pgid).forEach(add);
  findByJobMarker(marker).forEach(add);
  return [...found.values()];
}
