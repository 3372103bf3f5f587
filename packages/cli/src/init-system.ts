/**
 * Which service manager `botvisor startup` writes for when none is named: systemd when it is the
 * running init system (its own test: /run/systemd/system exists), launchd on macOS, else none —
 * the caller says so instead of guessing.
 */
import { existsSync } from 'node:fs';

export type InitSystem = 'systemd' | 'launchd';

export interface InitProbe {
  platform: NodeJS.Platform;
  exists: (path: string) => boolean;
}

export const THIS_MACHINE: InitProbe = { platform: process.platform, exists: existsSync };

/** The machine's service manager, or undefined when it is neither systemd nor launchd. */
export function detectInitSystem(probe: InitProbe = THIS_MACHINE): InitSystem | undefined {
  if (probe.platform === 'darwin') return 'launchd';
  // sd_booted(3): systemd is the init system exactly when this directory exists.
  if (probe.platform === 'linux' && probe.exists('/run/systemd/system')) return 'systemd';
  return undefined;
}
