/**
 * What a reload does to each bot, decided from the running config and the re-read one, before
 * anything is touched: added bots are started, removed ones stopped, changed ones replaced (their
 * config entry differs, or their code does: the module file's content hash), the rest left
 * running. A bot whose token or polling role changed is stopped and started anew rather than
 * handed over: the hand-over is between two processes of the same poller of the same token.
 * `reload <bot>` replaces that bot even when nothing changed (new code in a file the hash does not
 * cover). Settings of the supervisor itself are reported as needing its restart.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ResolvedBot, ResolvedConfig } from '@botvisor/core';

export type BotAction = 'add' | 'remove' | 'replace' | 'renew' | 'keep';

export interface ReloadPlan {
  /** Bot name → what happens to it. */
  actions: Map<string, BotAction>;
  /** Top-level settings that differ but apply only when the supervisor restarts. */
  needsRestart: string[];
}

/** The content hash of a bot's implementation, or its path when it cannot be read. */
export function codeFingerprint(module: string | undefined): string {
  if (module === undefined) return 'none';
  try {
    return createHash('sha256').update(readFileSync(module)).digest('hex');
  } catch {
    return `path:${module}`;
  }
}

export interface PlanInput {
  running: ResolvedConfig;
  next: ResolvedConfig;
  /** The implementation each bot runs now and would run after the reload (custom: bot.module; built-in kinds: the installed one). */
  moduleOf: (bot: ResolvedBot) => string | undefined;
  /** The fingerprint each running bot's code had when its process started. */
  runningCode: (name: string) => string | undefined;
  /** `all`, or the one bot named in `botvisor reload <bot>`. */
  target: string;
}

export function planReload(p: PlanInput): ReloadPlan {
  const actions = new Map<string, BotAction>();
  const before = new Map(p.running.bots.map((b) => [b.name, b]));
  const after = new Map(p.next.bots.map((b) => [b.name, b]));
  const inScope = (name: string): boolean => p.target === 'all' || p.target === name;
  for (const [name, bot] of after) {
    if (!inScope(name)) continue;
    const old = before.get(name);
    if (old === undefined) actions.set(name, 'add');
    else if (old.token !== bot.token || old.polling !== bot.polling || old.enabled !== bot.enabled) actions.set(name, 'renew');
    else if (p.target === name) actions.set(name, 'replace');
    else if (JSON.stringify(old) !== JSON.stringify(bot) || p.runningCode(name) !== codeFingerprint(p.moduleOf(bot))) actions.set(name, 'replace');
    else actions.set(name, 'keep');
  }
  for (const name of before.keys()) if (!after.has(name) && inScope(name)) actions.set(name, 'remove');
  const needsRestart = (['dataDir', 'logDir', 'locksDir', 'apiRoot', 'http', 'supervisor'] as const).filter((k) => JSON.stringify(p.running[k]) !== JSON.stringify(p.next[k]));
  return { actions, needsRestart };
}
