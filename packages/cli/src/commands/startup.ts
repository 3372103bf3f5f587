/**
 * `botvisor startup systemd|launchd [--install]`: prints the service definition for this
 * installation (absolute paths of node, the CLI and the config); `--install` writes it where the
 * service manager looks and prints the command that enables it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlConfig } from '@botvisor/core';
import type { FoundConfig } from '../config-lookup.js';
import { documentationUrl } from '../documentation-url.js';
import { CliError, EXIT } from '../exit-codes.js';
import { LAUNCHD_LABEL, launchdPlist, systemdUnit, type UnitPaths } from '../service-units.js';

const CLI_BIN = fileURLToPath(new URL('../bin/botvisor.js', import.meta.url));

export function unitPaths(found: FoundConfig<ControlConfig>): UnitPaths {
  const docs = documentationUrl();
  return {
    node: process.execPath,
    cli: CLI_BIN,
    config: found.file,
    workingDirectory: path.dirname(found.file),
    dataDir: found.config.dataDir,
    logDir: found.config.logDir,
    locksDir: found.config.locksDir,
    stopGraceMs: found.config.supervisor.stopGraceMs,
    ...(docs !== undefined ? { documentation: docs } : {}),
  };
}

export function startupCommand(found: FoundConfig<ControlConfig>, manager: string, install: boolean, out: (s: string) => void, env: NodeJS.ProcessEnv = process.env): number {
  const paths = unitPaths(found);
  if (manager === 'systemd') {
    const unit = systemdUnit(paths);
    if (!install) {
      out(unit);
      return EXIT.ok;
    }
    const asRoot = process.getuid?.() === 0;
    const dir = asRoot ? '/etc/systemd/system' : path.join(env.HOME ?? os.homedir(), '.config', 'systemd', 'user');
    const file = path.join(dir, 'botvisor.service');
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, asRoot ? unit : unit.replace('WantedBy=multi-user.target', 'WantedBy=default.target'));
    out(`wrote ${file}`);
    out(`enable it with: ${asRoot ? 'systemctl daemon-reload && systemctl enable --now botvisor' : 'systemctl --user daemon-reload && systemctl --user enable --now botvisor'}`);
    return EXIT.ok;
  }
  if (manager === 'launchd') {
    const plist = launchdPlist(paths);
    if (!install) {
      out(plist);
      return EXIT.ok;
    }
    const dir = path.join(env.HOME ?? os.homedir(), 'Library', 'LaunchAgents');
    const file = path.join(dir, `${LAUNCHD_LABEL}.plist`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, plist);
    out(`wrote ${file}`);
    out(`enable it with: launchctl bootstrap gui/$(id -u) ${file}`);
    return EXIT.ok;
  }
  throw new CliError(`unknown service manager "${manager}"; use systemd or launchd`, EXIT.usage);
}
