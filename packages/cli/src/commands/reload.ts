/**
 * `botvisor reload [bot|all]`: asks the running supervisor to re-read its config file and apply
 * it — bots added are started, removed ones stopped, changed ones (config or code) handed over to
 * a new process without a second poller, the rest left running. Prints what was done; exits 1
 * with the sentence of each bot whose reload failed (a rolled-back bot keeps its old process).
 */
import type { ControlConfig } from '@botvisor/core';
import { controlRequest, controlSocketPath, describeReload, NotRunningError, type ReloadResult } from '@botvisor/supervisor';
import type { FoundConfig } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';

export async function reloadCommand(found: FoundConfig<ControlConfig>, bot: string, out: (s: string) => void): Promise<number> {
  let result: ReloadResult;
  try {
    result = (await controlRequest(controlSocketPath(found.config.dataDir), { cmd: 'reload', bot }, 180_000)) as ReloadResult;
  } catch (err) {
    if (err instanceof NotRunningError) throw new CliError(`botvisor is not running for ${found.config.dataDir}; start it with: botvisor start -c ${found.file}`, EXIT.notRunning);
    throw new CliError(`reload ${bot} failed, nothing was changed: ${(err as Error).message}`);
  }
  if (result.failed.length === 0) {
    out(`reloaded ${bot}: ${describeReload(result)}`);
    return EXIT.ok;
  }
  for (const f of result.failed) out(`reload of ${f.bot} failed: ${f.why}`);
  out(`reloaded ${bot} in part: ${describeReload({ ...result, failed: [] })}`);
  return EXIT.failed;
}
