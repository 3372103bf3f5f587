/**
 * `botvisor reload` and SIGHUP: re-reads the config file and brings the running fleet to it, one
 * reload at a time. The plan (reload-plan.ts) says what happens to each bot; this carries it out —
 * removed bots stopped, bots whose token, polling role or `enabled` changed stopped and started
 * anew, added bots started, changed bots replaced by a hand-over (ManagedBot.replace) — and
 * reports, bot by bot, what was done and what failed. A replacement that fails keeps its old
 * process and old config entry, so the next reload tries it again.
 */
import type { Logger, ResolvedBot, ResolvedConfig } from '@botvisor/core';
import { type ManagedBot, ReloadRolledBackError } from '../bot/managed-bot.js';
import type { EventStream } from '../events.js';
import { type Fleet, untilStates } from '../fleet.js';
import { runningJobs, untilJobsEnd, waitsForJobs } from './jobs-wait.js';
import { codeFingerprint, planReload } from './reload-plan.js';

export interface ReloadResult {
  added: string[];
  removed: string[];
  /** Handed over to a new process (a polling bot without a second poller). */
  replaced: string[];
  /** Stopped and started anew: token, polling role or `enabled` changed. */
  restarted: string[];
  kept: string[];
  /** Handed over once the jobs of its old process end (jobs-wait.ts); the outcome is a `reloaded` or `reload-failed` event. */
  deferred: Array<{ bot: string; jobs: number }>;
  /** Bot and the sentence that says why; a rolled-back bot keeps its old process. */
  failed: Array<{ bot: string; why: string }>;
  /** Settings that apply only when the supervisor restarts. */
  needsRestart: string[];
}

export interface ReloaderOptions {
  fleet: Fleet;
  configFile: string;
  /** Reads the config file (core's loadConfig); a config that cannot be used fails the reload and changes nothing. */
  load: (file: string) => ResolvedConfig;
  events: EventStream;
  logger: Logger;
  /** How long a replaced or started bot may take to become ready. */
  readyTimeoutMs: number;
  /** How often a deferred hand-over looks at the running jobs (the ping interval). */
  jobCheckMs: number;
}

export class Reloader {
  /** Each bot's code fingerprint as its running process loaded it. */
  private readonly code = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Bots whose hand-over waits for their old process's jobs. */
  private readonly deferred = new Set<string>();

  constructor(private readonly o: ReloaderOptions) {
    for (const bot of o.fleet.running.bots) this.code.set(bot.name, codeFingerprint(o.fleet.moduleOf(bot)));
  }

  /** Reloads `target` (`all` or one bot's name) once the reload before it is done. */
  reload(target: string): Promise<ReloadResult> {
    const next = this.queue.then(() => this.apply(target));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(target: string): Promise<ReloadResult> {
    const { fleet } = this.o;
    const running = fleet.running;
    const next = this.o.load(this.o.configFile);
    if (target !== 'all' && !next.bots.some((b) => b.name === target) && !running.bots.some((b) => b.name === target)) {
      throw new Error(`no bot named "${target}" in ${this.o.configFile} (bots: ${next.bots.map((b) => b.name).join(', ')})`);
    }
    const plan = planReload({ running, next, moduleOf: (b) => fleet.moduleOf(b), runningCode: (name) => this.code.get(name), target });
    const result: ReloadResult = { added: [], removed: [], replaced: [], restarted: [], kept: [], deferred: [], failed: [], needsRestart: plan.needsRestart };
    const entryOf = new Map(next.bots.map((b) => [b.name, b]));
    // The config the fleet runs after this reload: the new one, but a bot out of scope or whose replacement failed keeps its running entry.
    const adopted = new Map(running.bots.map((b) => [b.name, b]));
    const waits: Array<Promise<void>> = [];
    const later: Array<() => Promise<void>> = [];

    for (const [name, action] of plan.actions) {
      const bot = entryOf.get(name);
      if (this.deferred.has(name)) {
        result.failed.push({ bot: name, why: `${name} already waits for the jobs of its old process to end before it is handed over; reload it again after that` });
        continue;
      }
      if (action === 'keep') {
        result.kept.push(name);
        continue;
      }
      if (action === 'remove' || action === 'renew') {
        await fleet.remove(name, action === 'remove' ? 'removed from the config by a reload' : 'its token, polling role or enabled changed: started anew by a reload');
        adopted.delete(name);
        this.code.delete(name);
        if (action === 'remove') result.removed.push(name);
      }
      if (bot === undefined || action === 'remove') continue;
      if (action === 'add' || action === 'renew') {
        const managed = await fleet.add(bot);
        adopted.set(name, bot);
        this.code.set(name, codeFingerprint(fleet.moduleOf(bot)));
        (action === 'add' ? result.added : result.restarted).push(name);
        if (bot.enabled) {
          managed.start(`${action === 'add' ? 'added' : 'started anew'} by a reload`);
          waits.push(this.untilReady(managed).then((why) => void (why !== undefined && result.failed.push({ bot: name, why }))));
        }
        continue;
      }
      // replace: its own hand-over, in parallel with the others.
      const managed = fleet.get(name) as ManagedBot;
      if (waitsForJobs(managed, bot)) {
        result.deferred.push({ bot: name, jobs: runningJobs(managed) });
        this.deferred.add(name);
        // Started once this reload's config is adopted: the hand-over then adopts its own entry.
        later.push(() => untilJobsEnd(managed, this.o.jobCheckMs)
          .then(() => this.handOver(managed, bot))
          .then((outcome) => {
            this.deferred.delete(name);
            const ok = outcome.why === undefined;
            this.o.events.emit(ok ? 'reloaded' : 'reload-failed', `deferred reload of ${name} (its jobs have ended): ${ok ? 'handed over' : `FAILED: ${outcome.why}`}`, name, { ...outcome });
          }),
        );
        continue;
      }
      waits.push(
        this.handOver(managed, bot).then((outcome) => {
          if (outcome.why === undefined) result.replaced.push(name);
          else result.failed.push({ bot: name, why: outcome.why });
          if (outcome.applied) adopted.set(name, bot);
        }),
      );
    }
    await Promise.all(waits);
    fleet.adopt({ ...next, bots: next.bots.filter((b) => adopted.has(b.name)).map((b) => adopted.get(b.name) as typeof b) });
    for (const start of later) void start();
    const summary = `reload of ${target}: ${describe(result)}`;
    // The summary; each failed bot has had its own event (reload-failed, or errored/crashed after a hand-over), so alerts are not doubled.
    this.o.events.emit('reloaded', summary, target === 'all' ? undefined : target, { ...result });
    return result;
  }

  /** Replaces `managed` by a process of `bot`; `why` is set when it failed, `applied` once the new process took over (no way back). */
  private async handOver(managed: ManagedBot, bot: ResolvedBot): Promise<{ applied: boolean; why?: string }> {
    const { fleet } = this.o;
    const code = codeFingerprint(fleet.moduleOf(bot));
    try {
      await managed.replace({ bot, module: bot.kind === 'custom' ? undefined : fleet.moduleOf(bot) }, 'reload');
    } catch (err) {
      if (!(err instanceof ReloadRolledBackError)) this.o.logger.error('a reload replacement failed unexpectedly', { bot: bot.name, err });
      return { applied: false, why: err instanceof Error ? err.message : String(err) };
    }
    this.code.set(bot.name, code);
    fleet.adoptBot(bot);
    const why = await this.untilReady(managed);
    return why === undefined ? { applied: true } : { applied: true, why: `the new process failed after the old one had handed over (no rollback past that point): ${why}` };
  }

  /** Undefined once `bot` is ready; else why it is not, after its start has an outcome. */
  private async untilReady(bot: ManagedBot): Promise<string | undefined> {
    await untilStates([bot], () => bot.state !== 'starting' && bot.state !== 'stopped' && bot.state !== 'stopping', this.o.readyTimeoutMs);
    if (bot.state === 'ready') return undefined;
    return `${bot.name} is ${bot.state}${bot.status().problem !== null ? `: ${bot.status().problem}` : ''}`;
  }
}

function describe(r: ReloadResult): string {
  const parts = (
    [
      ['added', r.added],
      ['removed', r.removed],
      ['replaced', r.replaced],
      ['started anew', r.restarted],
      ['unchanged', r.kept],
      ['waiting for running jobs to end before the hand-over', r.deferred.map((d) => `${d.bot} (${d.jobs})`)],
    ] as const
  )
    .filter(([, names]) => names.length > 0)
    .map(([what, names]) => `${what} ${names.join(', ')}`);
  for (const f of r.failed) parts.push(`FAILED ${f.bot}: ${f.why}`);
  if (r.needsRestart.length > 0) parts.push(`${r.needsRestart.join(', ')} changed: they apply when the supervisor restarts`);
  return parts.length > 0 ? parts.join('; ') : 'nothing to do';
}

export { describe as describeReload };
