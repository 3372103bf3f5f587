/**
 * `botvisor dashboard`: prints a one-time link that opens the dashboard as its owner. The link
 * comes from the control socket, which only the user who runs botvisor can open (0600), so
 * holding it proves who asks; on loopback without a bearer token the dashboard's actions and
 * logs need that proof (supervisor dashboard/owner-access.ts). It prints rather than opens a
 * browser: on a server there is none, and a terminal link is one click on a desktop.
 */
import type { ControlConfig } from '@botvisor/core';
import { controlRequest, controlSocketPath, NotRunningError } from '@botvisor/supervisor';
import type { FoundConfig } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';

export async function dashboardCommand(found: FoundConfig<ControlConfig>, out: (s: string) => void): Promise<number> {
  let url: string;
  try {
    ({ url } = await controlRequest<{ url: string }>(controlSocketPath(found.config.dataDir), { cmd: 'dashboard-login' }, 10_000));
  } catch (err) {
    if (err instanceof NotRunningError) throw new CliError(`botvisor is not running for ${found.config.dataDir}; start it with: botvisor start -c ${found.file}`, EXIT.notRunning);
    throw new CliError(`could not get a dashboard link: ${(err as Error).message}`);
  }
  out(`open this link once, within 10 minutes, to use the dashboard as its owner:\n${url}`);
  return EXIT.ok;
}
