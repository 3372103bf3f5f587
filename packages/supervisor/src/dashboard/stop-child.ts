/**
 * "Stop a job" from the dashboard: tree-kill one CLI child of a bot, chosen by PID among the
 * children the supervisor tracks for that bot — never any other process. The tracked start time
 * goes with the PID, so a PID reused by an unrelated process since the page was drawn is left
 * alone. The bot's tree cookie is deliberately not passed: it would take the bot down too.
 */
import { type KillTreeResult, killTree, type ProcessRef } from '@botvisor/core';
import type { TrackedProcess } from '../registry.js';
import { HttpError } from './http-io.js';

export interface StopChildResult {
  stopped: { pid: number; command: string };
  /** Every process of that child's tree that was ended. */
  killed: Array<{ pid: number; command: string }>;
  /** Still alive at the deadline (should be empty). */
  survivors: Array<{ pid: number; command: string }>;
}

export type KillTreeFn = (root: ProcessRef, options: { graceMs: number; deadlineMs: number }) => Promise<KillTreeResult>;

export async function stopChild(bot: string, children: readonly TrackedProcess[], pid: number, kill: KillTreeFn = killTree): Promise<StopChildResult> {
  const child = children.find((c) => c.pid === pid);
  if (child === undefined) throw new HttpError(404, `bot ${bot} has no CLI child with pid ${pid} (it may have ended already)`);
  const result = await kill({ pid: child.pid, startTime: child.startTime }, { graceMs: 2000, deadlineMs: 7000 });
  const plain = (p: { pid: number; command: string }) => ({ pid: p.pid, command: p.command });
  return { stopped: plain(child), killed: result.killed.map(plain), survivors: result.survivors.map(plain) };
}
