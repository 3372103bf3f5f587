/**
 * One picture of the fleet for the page: the supervisor's status report (the `status --json`
 * contract), each bot's CLI children arranged as a tree (parents read from the process table,
 * and only when some bot has children), the polling locks (in cluster mode with who is active
 * for each token) and the latest events. Messages pass
 * through `redact()`; nothing here reads a token.
 */
import { type ProcessInfo, redact } from '@botvisor/core';
import type { SupervisorEvent } from '../events.js';
import type { StatusReport } from '../status.js';
import type { DashboardBot, DashboardChild, DashboardState } from './dashboard-types.js';

export const EVENTS_SHOWN = 50;

export interface FleetSnapshotSource {
  status(): Promise<StatusReport>;
  recentEvents(): readonly SupervisorEvent[];
  /** The process table, for the children's parents (core's `snapshotProcesses`; injected for tests). */
  processTable(): ProcessInfo[];
}

export async function snapshotFleet(source: FleetSnapshotSource, flags: { readOnly: boolean; sandbox: boolean }): Promise<DashboardState> {
  const report = await source.status();
  const anyChildren = report.bots.some((b) => b.children.length > 0);
  const parents = new Map<number, number>();
  if (anyChildren) for (const p of source.processTable()) parents.set(p.pid, p.ppid);
  const bots: DashboardBot[] = report.bots.map((b) => ({ ...b, children: childTree(b.children, parents) }));
  const { supervisor } = report;
  return {
    generatedAt: new Date().toISOString(),
    readOnly: flags.readOnly,
    sandbox: flags.sandbox,
    supervisor: { pid: supervisor.pid, uptimeMs: supervisor.uptimeMs, startedAt: supervisor.startedAt, dataDir: supervisor.dataDir, httpUrl: supervisor.httpUrl },
    bots,
    locks: supervisor.locks.map((l) => ({ tokenHash: l.tokenHash, bot: l.bot, owner: l.owner, cluster: l.cluster === null ? null : { ...l.cluster, error: l.cluster.error === null ? null : redact(l.cluster.error) } })),
    events: source
      .recentEvents()
      .slice(-EVENTS_SHOWN)
      .reverse()
      .map((e) => ({ kind: e.kind, at: e.at, message: redact(e.message), bot: e.bot ?? null })),
  };
}

/** Children in depth-first order, each naming its parent when that parent is another child of the same bot. */
export function childTree(children: Array<{ pid: number; command: string }>, parents: ReadonlyMap<number, number>): DashboardChild[] {
  const known = new Set(children.map((c) => c.pid));
  const nodes = children.map((c) => {
    const ppid = parents.get(c.pid);
    return { pid: c.pid, command: c.command, parentPid: ppid !== undefined && ppid !== c.pid && known.has(ppid) ? ppid : null };
  });
  const byParent = new Map<number | null, typeof nodes>();
  for (const n of nodes) byParent.set(n.parentPid, [...(byParent.get(n.parentPid) ?? []), n]);
  const ordered: DashboardChild[] = [];
  const seen = new Set<number>();
  const visit = (parent: number | null): void => {
    for (const n of (byParent.get(parent) ?? []).sort((a, b) => a.pid - b.pid)) {
      if (seen.has(n.pid)) continue;
      seen.add(n.pid);
      ordered.push(n);
      visit(n.pid);
    }
  };
  visit(null);
  // A parent cycle (PID reuse between two reads) leaves nodes unvisited: show them at the top.
  for (const n of nodes) if (!seen.has(n.pid)) ordered.push({ ...n, parentPid: null });
  return ordered;
}
