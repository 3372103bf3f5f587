/**
 * One control-socket request from a CLI command, with "not running" turned into the CLI's exit 3
 * and the sentence that says how to start it. Other failures are the supervisor's own sentence.
 */
import type { ControlConfig } from '@botvisor/core';
import { type ControlRequest, controlRequest, controlSocketPath, NotRunningError } from '@botvisor/supervisor';
import type { FoundConfig } from './config-lookup.js';
import { CliError, EXIT } from './exit-codes.js';

type RequestBody = ControlRequest extends infer R ? (R extends ControlRequest ? Omit<R, 'v' | 'id'> : never) : never;

export async function controlCall<T>(found: FoundConfig<ControlConfig>, body: RequestBody, timeoutMs: number): Promise<T> {
  try {
    return await controlRequest<T>(controlSocketPath(found.config.dataDir), body, timeoutMs);
  } catch (err) {
    if (err instanceof NotRunningError) throw new CliError(`botvisor is not running for ${found.config.dataDir} (config ${found.file}); start it with: botvisor start -c ${found.file} --detach`, EXIT.notRunning);
    throw new CliError(`${body.cmd}${'bot' in body ? ` ${body.bot}` : ''} failed: ${(err as Error).message}`);
  }
}

/** The bot must be in the config: a usage error (exit 2) naming the bots otherwise. */
export function requireBot(found: FoundConfig<ControlConfig>, bot: string): void {
  const known = found.config.bots.map((b) => b.name);
  if (!known.includes(bot)) throw new CliError(`no bot named "${bot}" in ${found.file}; bots: ${known.join(', ')}`, EXIT.usage);
}
