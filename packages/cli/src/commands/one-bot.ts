/**
 * `botvisor stop <bot>` and `botvisor start <bot>`: a person's stop or start of one bot in the
 * running supervisor; the other bots keep running, untouched. A bot stopped this way stays
 * stopped — no crash restart, `restart all` leaves it alone, /health does not count it — until
 * `start <bot>` (or `restart <bot>`). A new supervisor starts every enabled bot again: to keep a
 * bot off for good, set `"enabled": false` in the config.
 */
import type { ControlConfig } from '@botvisor/core';
import type { StatusReport } from '@botvisor/supervisor';
import type { FoundConfig } from '../config-lookup.js';
import { controlCall, requireBot } from '../control-call.js';
import { CliError, EXIT } from '../exit-codes.js';

export async function stopBotCommand(found: FoundConfig<ControlConfig>, bot: string, out: (s: string) => void): Promise<number> {
  requireBot(found, bot);
  let status: StatusReport;
  try {
    status = await controlCall<StatusReport>(found, { cmd: 'status' }, 10_000);
  } catch (err) {
    // Nothing running is nothing to stop, as for `botvisor stop`: exit 0, said so.
    if (err instanceof CliError && err.exitCode === EXIT.notRunning) {
      out(`botvisor is not running for ${found.config.dataDir}; ${bot} is not running, nothing to stop`);
      return EXIT.ok;
    }
    throw err;
  }
  const before = status.bots.find((b) => b.name === bot);
  // The supervisor answers once the bot's tree is gone: the grace, then a tree kill.
  await controlCall(found, { cmd: 'stop-bot', bot }, found.config.supervisor.stopGraceMs + 15_000);
  const was = before === undefined || before.pid === null ? `it was ${before?.state ?? 'not running'}` : `pid ${before.pid}`;
  out(`stopped ${bot} (${was}); it stays stopped until: botvisor start ${bot}`);
  return EXIT.ok;
}

export async function startBotCommand(found: FoundConfig<ControlConfig>, bot: string, out: (s: string) => void): Promise<number> {
  requireBot(found, bot);
  const r = await controlCall<{ state: string; problem: string | null; pid: number | null }>(found, { cmd: 'start-bot', bot }, found.config.supervisor.startTimeoutMs + 15_000);
  if (r.state === 'ready') {
    out(`started ${bot}: ready (pid ${r.pid})`);
    return EXIT.ok;
  }
  if (r.state === 'waiting') throw new CliError(`${bot} waits: ${r.problem ?? 'its polling lock is not held'}; it takes over by itself when the lock is free`);
  throw new CliError(`${bot} is ${r.state}${r.problem !== null ? `: ${r.problem}` : ''}; its output: botvisor logs ${bot}`);
}
