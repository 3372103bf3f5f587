/**
 * Reaping what the previous run left behind. Every bot or CLI grandchild in the old registry
 * that is still alive *with the same start time* is tree-killed — a bot's other runs too (a
 * reload's old process still draining, its replacement in standby) — as is every process still
 * carrying one of its bots' tree cookies (a daemon that escaped the tree) or still in one of its
 * bots' cgroups (one that also cleared its environment). A PID now used by an
 * unrelated process has another start time and no cookie, and is left alone. Polling locks whose
 * owner is dead are removed from the (machine-wide) lock folder: any installation may do that
 * safely, as a live owner's lock is never touched.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { isAlive, type KilledProcess, killByCookie, killTree, type Logger, processKey, reclaimIfOwnerDead } from '@botvisor/core';
import { treeContainment } from './containment/tree-containment.js';
import type { RegistryState } from './registry.js';

export interface ReapResult {
  killed: KilledProcess[];
  survivors: KilledProcess[];
  locksRemoved: number;
}

export async function reapPreviousRun(previous: RegistryState, locksDir: string, logger: Logger): Promise<ReapResult> {
  const killed: KilledProcess[] = [];
  const survivors: KilledProcess[] = [];
  for (const [bot, entry] of Object.entries(previous.bots)) {
    const runs = [{ cookie: entry.cookie, roots: [entry.process, ...entry.children] }, ...entry.otherRuns.map((r) => ({ cookie: r.cookie, roots: [r.process] }))];
    for (const run of runs) {
      for (const root of run.roots) {
        if (root === null || !isAlive(root)) continue;
        const r = await killTree(root, { graceMs: 1000, deadlineMs: 5000, cookie: run.cookie });
        killed.push(...r.killed);
        survivors.push(...r.survivors);
      }
      // Nothing of the run is alive by ref, but an escaped grandchild may still carry the cookie.
      const sweep = await killByCookie(run.cookie, { graceMs: 1000, deadlineMs: 5000 });
      killed.push(...sweep.killed);
      survivors.push(...sweep.survivors);
      const contained = await treeContainment().sweep(run.cookie, 1000);
      if (contained > 0) logger.info('killed processes left in the cgroup of a bot of the previous run', { bot, processes: contained });
    }
    if (killed.length > 0) logger.debug('reaped leftovers of a bot of the previous run', { bot });
  }
  let locksRemoved = 0;
  let names: string[] = [];
  try {
    names = readdirSync(locksDir);
  } catch {
    // no locks folder yet
  }
  for (const name of names) {
    if (name.endsWith('.lock') && reclaimIfOwnerDead(path.join(locksDir, name), logger, 'polling lock')) locksRemoved++;
  }
  return { killed: dedupe(killed), survivors: dedupe(survivors), locksRemoved };
}

function dedupe(list: KilledProcess[]): KilledProcess[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const key = processKey(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
