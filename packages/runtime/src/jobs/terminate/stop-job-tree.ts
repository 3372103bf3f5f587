/**
 * Ends every process of one job, inside the root's tree or outside it. The root's tree goes by
 * core's tree kill (SIGTERM to the group with the descendants, grace, SIGKILL, rescans); at the
 * same time, so does whatever carries the job's marker outside that tree (a `setsid` daemon that
 * init adopted). Then sweeps until nothing of the job
 * is alive or the deadline passes. Other jobs of the same bot are never touched: they carry
 * another marker, and the bot-wide tree cookie is deliberately not used here.
 */
import { isAlive, killTree, type ProcessRef, processKey } from '@botvisor/core';
import { jobMembers } from './job-members.js';

export interface StopJobOptions {
  /** SIGTERM → SIGKILL. */
  graceMs: number;
  /** Total budget; default grace + 5 s. */
  deadlineMs?: number;
}

export interface StopJobResult {
  /** Processes still alive at the deadline. */
  survivors: ProcessRef[];
}

const key = processKey;

/** `root` may be undefined or already dead (the job exited and left processes behind). */
export async function stopJobTree(root: ProcessRef | undefined, marker: string, options: StopJobOptions): Promise<StopJobResult> {
  const deadlineMs = options.deadlineMs ?? options.graceMs + 5000;
  const deadline = Date.now() + deadlineMs;
  const pgid = root?.pid;
  const roots = new Map<string, ProcessRef>();
  if (root !== undefined && isAlive(root)) roots.set(key(root), root);
  for (const p of jobMembers(pgid, marker)) roots.set(key(p), { pid: p.pid, startTime: p.startTime });

  // Every member as a tree of its own: killTree finds each one's descendants, and a member that
  // is already inside another's tree is simply found dead by the time its turn comes.
  const budget = (): number => Math.max(0, deadline - Date.now());
  const kill = (ref: ProcessRef, graceMs: number) => killTree(ref, { graceMs: Math.min(graceMs, budget()), deadlineMs: budget() });
  await Promise.all([...roots.values()].map((r) => kill(r, options.graceMs)));

  // Anything forked meanwhile, or that escaped while we waited: no second grace.
  for (;;) {
    const left = jobMembers(pgid, marker);
    if (left.length === 0 || Date.now() >= deadline) {
      return { survivors: left.map((p) => ({ pid: p.pid, startTime: p.startTime })) };
    }
    await Promise.all(left.map((p) => kill({ pid: p.pid, startTime: p.startTime }, 0)));
  }
}
