/**
 * A bot's children: every CLI job it reported over IPC (`child-spawned`/`child-exited`) plus
 * whatever a periodic rescan finds below it or carrying its tree cookie — so a process spawned
 * outside the job runner is tracked too. Changes are handed to the registry. The look at the
 * process table comes from a ProcessScan the fleet's bots share (one walk of /proc for all of them).
 */
import { descendants, isAlive, type ProcessRef, ProcessScan, processKey } from '@botvisor/core';
import type { TrackedProcess } from '../registry.js';

export class ChildTracker {
  private readonly children = new Map<string, TrackedProcess>();

  constructor(
    private readonly onChange: (children: TrackedProcess[]) => void,
    private readonly scan: ProcessScan = new ProcessScan(() => 0),
  ) {}

  list(): TrackedProcess[] {
    return [...this.children.values()];
  }

  reported(child: ProcessRef & { command: string }): void {
    this.children.set(processKey(child), { pid: child.pid, startTime: child.startTime, command: child.command });
    this.onChange(this.list());
  }

  exited(child: ProcessRef): void {
    if (this.children.delete(processKey(child))) this.onChange(this.list());
  }

  /** Looks again at the bot's tree and cookie; drops what has died, adds what is new. */
  rescan(bot: ProcessRef, cookie: string): void {
    const table = this.scan.table();
    const found = new Map<string, TrackedProcess>();
    const botAlive = table.some((p) => p.pid === bot.pid && p.startTime === bot.startTime);
    const below = botAlive ? descendants(bot.pid, table) : [];
    for (const p of [...below, ...this.scan.withCookie(cookie)]) {
      if (p.pid === bot.pid || p.state === 'Z') continue;
      found.set(processKey(p), { pid: p.pid, startTime: p.startTime, command: p.command });
    }
    let changed = false;
    for (const [key, child] of this.children) {
      if (!found.has(key) && !isAlive(child)) {
        this.children.delete(key);
        changed = true;
      }
    }
    for (const [key, child] of found) {
      if (!this.children.has(key)) {
        this.children.set(key, child);
        changed = true;
      }
    }
    if (changed) this.onChange(this.list());
  }

  clear(): void {
    if (this.children.size === 0) return;
    this.children.clear();
    this.onChange([]);
  }
}
