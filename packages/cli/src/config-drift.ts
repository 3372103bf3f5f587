/**
 * Whether the running fleet uses the config file as it is now: the supervisor reports the
 * fingerprint of the file it started with (`status --json`: `supervisor.configHash`), compared
 * here with the file's bytes now. There is no `reload` command yet, so the advice is a restart.
 */
import type { ControlConfig } from '@botvisor/core';
import { configFingerprint, type StatusReport } from '@botvisor/supervisor';
import type { FoundConfig } from './config-lookup.js';

/** How to apply an edited config to the running fleet. */
export const APPLY_NEW_CONFIG = 'botvisor reload (nothing is lost; or botvisor stop && botvisor start --detach)';

/** A sentence saying the running fleet uses an older config than the file, and how to apply it; undefined when they agree (or an old supervisor cannot tell). */
export function configDrift(found: FoundConfig<ControlConfig>, running: StatusReport): string | undefined {
  const startedWith = running.supervisor.configHash;
  if (startedWith === undefined || startedWith === null) return undefined;
  if (configFingerprint(found.file) === startedWith) return undefined;
  const runningBots = new Set(running.bots.map((b) => b.name));
  const fileBots = new Set(found.config.bots.map((b) => b.name));
  const added = [...fileBots].filter((n) => !runningBots.has(n));
  const removed = [...runningBots].filter((n) => !fileBots.has(n));
  const diff = [added.length > 0 ? `not running: ${added.join(', ')}` : '', removed.length > 0 ? `still running, no longer in the file: ${removed.join(', ')}` : ''].filter((s) => s !== '').join('; ');
  return `${found.file} has changed since the supervisor (pid ${running.supervisor.pid}) started at ${running.supervisor.startedAt}: the running fleet uses the old config${diff !== '' ? ` (${diff})` : ''}; to apply the new one: ${APPLY_NEW_CONFIG}`;
}
