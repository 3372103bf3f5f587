/**
 * The registry of every process this supervisor run manages, by bot: its process, its
 * descendants (CLI jobs reported over IPC, anything found by the periodic rescan) with start
 * times, command names, its tree cookie — and, during a reload's hand-over, the bot's other
 * runs: the replacement forked in standby, and the old process finishing its handlers after it
 * handed over, each with its own cookie. Written through the core store, so it survives a
 * kill -9 of the supervisor: the next run reads it and reaps what is left.
 */
import path from 'node:path';
import { type DurableStore, type Logger, openStore, type ProcessRef } from '@botvisor/core';
import * as z from 'zod'; // a namespace import, so a bundle keeps only the parts used (not zod's 64 locales)

const trackedSchema = z.object({ pid: z.number().int(), startTime: z.number(), command: z.string() });
export type TrackedProcess = z.infer<typeof trackedSchema>;

const registrySchema = z.object({
  runId: z.string(),
  supervisor: trackedSchema.nullable(),
  bots: z.record(
    z.string(),
    z.object({
      cookie: z.string(),
      process: trackedSchema.nullable(),
      children: z.array(trackedSchema),
      /** Runs of the bot besides the current one (a hand-over's standby replacement or outgoing old process), each with its own tree cookie. */
      otherRuns: z.array(z.object({ cookie: z.string(), process: trackedSchema })).default([]),
    }),
  ),
});
export type RegistryState = z.infer<typeof registrySchema>;

export class Registry {
  private constructor(
    private readonly store: DurableStore<RegistryState>,
    /** What the previous run left, as read at open. */
    readonly previous: RegistryState,
  ) {}

  static async open(dataDir: string, logger: Logger): Promise<Registry> {
    const store = await openStore<RegistryState>({
      file: path.join(dataDir, 'supervisor', 'registry.json'),
      defaults: () => ({ runId: '', supervisor: null, bots: {} }),
      schema: registrySchema,
      logger,
      backupDir: path.join(dataDir, 'backups', 'supervisor'),
      backupIntervalMs: 0,
      role: 'supervisor',
    });
    return new Registry(store, structuredClone(store.data) as RegistryState);
  }

  /** Starts this run's record (after the previous one was reaped) and writes it durably. */
  async beginRun(runId: string, supervisor: TrackedProcess): Promise<void> {
    this.store.update((d) => {
      d.runId = runId;
      d.supervisor = supervisor;
      d.bots = {};
    });
    await this.store.flush();
  }

  setBot(name: string, cookie: string, proc: (ProcessRef & { command: string }) | null): void {
    this.store.update((d) => {
      const entry = d.bots[name] ?? { cookie, process: null, children: [], otherRuns: [] };
      entry.cookie = cookie;
      entry.process = proc === null ? null : { pid: proc.pid, startTime: proc.startTime, command: proc.command };
      d.bots[name] = entry;
    });
  }

  /** Records (or, with null, forgets) a run of the bot other than its current one, by its own cookie. */
  setOtherRun(name: string, cookie: string, proc: (ProcessRef & { command: string }) | null): void {
    this.store.update((d) => {
      const entry = d.bots[name] ?? { cookie: '', process: null, children: [], otherRuns: [] };
      entry.otherRuns = entry.otherRuns.filter((r) => r.cookie !== cookie);
      if (proc !== null) entry.otherRuns.push({ cookie, process: { pid: proc.pid, startTime: proc.startTime, command: proc.command } });
      d.bots[name] = entry;
    });
  }

  setChildren(name: string, children: TrackedProcess[]): void {
    this.store.update((d) => {
      const entry = d.bots[name];
      if (entry !== undefined) entry.children = children.map((c) => ({ ...c }));
    });
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  /** A clean stop: nothing is left to reap next time. */
  async close(): Promise<void> {
    this.store.update((d) => {
      d.bots = {};
      d.supervisor = null;
    });
    await this.store.close();
  }
}
