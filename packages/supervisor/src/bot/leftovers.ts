/**
 * The sweep after a bot's process exits: tree-kills everything that still carries the bot's tree
 * cookie (one scan, which also finds escaped grandchildren), then any reported child that dropped
 * the cookie from its env, then the bot's cgroup where there is one (containment/: it also holds
 * what cleared its environment). Runs before the next instance is forked, so a restart never
 * leaves an orphan behind.
 */
import { isAlive, killByCookie, killTree, type Logger, processKey } from '@botvisor/core';
import { treeContainment } from '../containment/tree-containment.js';
import type { TrackedProcess } from '../registry.js';

export async function killLeftovers(cookie: string, tracked: readonly TrackedProcess[], logger: Logger): Promise<void> {
  const swept = await killByCookie(cookie, { graceMs: 500, deadlineMs: 5000 });
  const gone = new Set(swept.killed.map((p) => processKey(p)));
  let extra = 0;
  for (const c of tracked) {
    if (gone.has(processKey(c)) || !isAlive(c)) continue;
    extra += (await killTree(c, { graceMs: 500, deadlineMs: 5000 })).killed.length;
  }
  extra += await treeContainment().sweep(cookie);
  const count = swept.killed.length + extra;
  if (count > 0) logger.info('killed what the bot left running', { processes: count, survivors: swept.survivors.length });
}
