/**
 * Process identity: a PID alone is not a process, because PIDs are reused. A `ProcessRef`
 * pairs the PID with the process start time, and `isAlive` answers for that exact process.
 */
import { readProcess } from './process-table.js';

export interface ProcessRef {
  pid: number;
  /** Milliseconds since the epoch, as read from the process table. */
  startTime: number;
}

/** The ref of a running process, or undefined if none has that PID (or it is already a zombie). */
export function refOf(pid: number): ProcessRef | undefined {
  const info = readProcess(pid);
  if (info === undefined || isDeadState(info.state)) return undefined;
  return { pid: info.pid, startTime: info.startTime };
}

export function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

/** True only if this very process still runs: false once it exited, became a zombie, or its PID went to another process. */
export function isAlive(ref: ProcessRef): boolean {
  const info = readProcess(ref.pid);
  return info !== undefined && !isDeadState(info.state) && info.startTime === ref.startTime;
}

/** The ref of the calling process. */
export function selfRef(): ProcessRef {
  const ref = refOf(process.pid);
  if (ref === undefined) throw new Error('cannot read this process in the process table');
  return ref;
}
