/**
 * `botvisor restart <bot|all>`: a person's restart — the bot's tree is stopped and started
 * again, its crash history is forgotten, and an errored bot gets another chance.
 */

import type { ControlConfig } from '@botvisor/core';
import { controlRequest, controlSocketPath, NotRunningError } from '@botvisor/supervisor';
import type { FoundConfig } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';

export async function restartCommand(found: FoundConfig<ControlConfig>, bot: string, out: (s: string) => void): Promise<number> {
  const known = found.config.bots.map((b) => b.name);
  if (bot !== 'all' && !known.includes(bot)) throw new CliError(`no bot named "${bot}" in ${found.file}; bots: ${known.join(', ')} (or "all")`, EXIT.usage);
  try {
    await controlRequest(controlSocketPath(found.config.dataDir), { cmd: 'restart', bot }, 60_000);
  } catch (err) {
    if (err instanceof NotRunningError) throw new CliError(`botvisor is not running for ${found.config.dataDir}; start it with: botvisor start -c ${found.file}`, EXIT.notRunning);
    throw new CliError(`restart ${bot} failed: ${(err as Error).message}`);
  }
  out(`restarted ${bot}: ready`);
  return EXIT.ok;
}
