/**
 * `botvisor stop [--timeout MS]`: graceful first (a stop request on the control socket, or
 * SIGTERM), then a tree kill once the timeout passes. Nothing running is exit 0, said so. Works without the socket too, from the
 * supervisor's lock owner record — and only after checking that the recorded pid still has the
 * recorded start time, so a reused pid is never signalled.
 */

import type { ControlConfig } from '@botvisor/core';
import { isAlive, killTree, type ProcessRef, readLockOwner } from '@botvisor/core';
import { controlRequest, controlSocketPath, instanceLockPath } from '@botvisor/supervisor';
import type { FoundConfig } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';

async function waitGone(ref: ProcessRef, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(ref)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(ref);
}

export async function stopCommand(found: FoundConfig<ControlConfig>, timeoutMs: number, out: (s: string) => void): Promise<number> {
  const owner = readLockOwner(instanceLockPath(found.config.dataDir));
  const ref = owner === undefined ? undefined : { pid: owner.pid, startTime: owner.startTime };
  // Nothing to stop is success, as with systemctl stop: scripts chain `botvisor stop && botvisor start`.
  if (ref === undefined || !isAlive(ref)) {
    out(`botvisor is not running for ${found.config.dataDir}; nothing to stop`);
    return EXIT.ok;
  }

  let asked = false;
  try {
    await controlRequest(controlSocketPath(found.config.dataDir), { cmd: 'stop' }, 5000);
    asked = true;
  } catch {
    // No socket (deleted, or the supervisor is wedged): fall back to a signal.
  }
  if (!asked) {
    out(`the control socket does not answer; sending SIGTERM to supervisor pid ${ref.pid}`);
    try {
      process.kill(ref.pid, 'SIGTERM');
    } catch {
      // exited just now
    }
  }
  if (await waitGone(ref, timeoutMs)) {
    out(`stopped (supervisor pid ${ref.pid})`);
    return EXIT.ok;
  }
  out(`the supervisor did not stop within ${timeoutMs} ms; killing its process tree`);
  const result = await killTree(ref, { graceMs: 1000, deadlineMs: 10_000 });
  if (result.survivors.length > 0) throw new CliError(`could not kill: ${result.survivors.map((p) => `${p.command}(${p.pid})`).join(', ')}`);
  out(`killed supervisor pid ${ref.pid} and ${result.killed.length - 1} other process(es)`);
  return EXIT.ok;
}
