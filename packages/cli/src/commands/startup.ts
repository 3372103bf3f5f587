/**
 * `botvisor startup [systemd|launchd] [--install | --uninstall] [--user NAME]`: prints the service
 * definition for this installation (absolute paths of node, the CLI and the config), for the
 * machine's own service manager when none is named; `--install` writes it where the service
 * manager looks and prints the exact command that enables it; `--uninstall` removes it. A system
 * unit runs as the invoking user (the one behind sudo), or `--user NAME`; `--dir` writes elsewhere
 * (an image built offline). The sandbox's generated
 * config is refused: a service runs the person's own config, not a demo on a fake token.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlConfig } from '@botvisor/core';
import type { FoundConfig } from '../config-lookup.js';
import { documentationUrl } from '../documentation-url.js';
import { CliError, EXIT } from '../exit-codes.js';
import { detectInitSystem, type InitProbe, THIS_MACHINE } from '../init-system.js';
import { LAUNCHD_LABEL, launchdPlist, systemdUnit, type UnitPaths, type UnitScope } from '../service-units.js';

/** The shipped `botvisor` entry (the bundle), found through the package's exports: the same file from tsc's output and from the bundle. */
const CLI_BIN = fileURLToPath(import.meta.resolve('@botvisor/cli/bin'));
const UNIT_NAME = 'botvisor.service';

export interface StartupOptions {
  install: boolean;
  uninstall: boolean;
  /** The account a system unit runs as; default the invoking user. */
  user?: string;
  /** Write or remove the file here instead of where the service manager looks (an image built offline, tests). */
  dir?: string;
}

/** The programs that gain privileges: a command that starts with one needs `NoNewPrivileges=` off. */
const ELEVATORS = new Set(['sudo', 'doas']);

/** The commands and sessions of the config that run sudo or doas, as `bot /name`. */
export function sudoCommands(config: ControlConfig): string[] {
  return config.bots.flatMap((b) =>
    [...Object.entries(b.commands), ...Object.entries(b.sessions)].filter(([, spec]) => ELEVATORS.has(path.basename(spec.argv[0] ?? ''))).map(([name]) => `${b.name} /${name}`),
  );
}

export function unitPaths(found: FoundConfig<ControlConfig>): UnitPaths {
  const docs = documentationUrl();
  const { config } = found;
  return {
    node: process.execPath,
    cli: CLI_BIN,
    config: found.file,
    workingDirectory: path.dirname(found.file),
    dataDir: config.dataDir,
    logDir: config.logDir,
    locksDir: config.locksDir,
    stopGraceMs: config.supervisor.stopGraceMs,
    ...(docs !== undefined ? { documentation: docs } : {}),
    configuredPaths: config.bots.flatMap((b) => [b.module, b.tokenSource.tokenFile].filter((p): p is string => p !== undefined)),
    sudoCommands: sudoCommands(config),
  };
}

/** Whether `file` is a config the sandbox generated (its folder holds the sandbox's fake token). */
function isSandboxConfig(found: FoundConfig<ControlConfig>): boolean {
  return found.via === 'sandbox' || existsSync(path.join(path.dirname(found.file), 'sandbox.token'));
}

/** The user a system unit runs as: `--user`, else the one who ran `sudo botvisor …`, else whoever runs this. */
function serviceUser(name: string | undefined, env: NodeJS.ProcessEnv): { name: string; group: string } {
  const invoking = process.getuid?.() === 0 && env.SUDO_USER !== undefined && env.SUDO_USER !== '' ? env.SUDO_USER : os.userInfo().username;
  const user = name ?? invoking;
  try {
    return { name: user, group: execFileSync('id', ['-gn', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() };
  } catch {
    throw new CliError(`--user ${user}: no such user on this machine`, EXIT.usage);
  }
}

export function startupCommand(
  found: FoundConfig<ControlConfig>,
  named: string | undefined,
  o: StartupOptions,
  out: (s: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  probe: InitProbe = THIS_MACHINE,
): number {
  if (o.install && o.uninstall) throw new CliError('--install and --uninstall do not go together; pick one', EXIT.usage);
  const manager = named ?? detectInitSystem(probe);
  if (manager === undefined) {
    throw new CliError('no service manager found: this machine runs neither systemd (no /run/systemd/system) nor launchd (not macOS); name one: botvisor startup systemd|launchd', EXIT.usage);
  }
  if (manager !== 'systemd' && manager !== 'launchd') throw new CliError(`unknown service manager "${manager}"; use systemd or launchd`, EXIT.usage);
  if (!o.uninstall && isSandboxConfig(found)) {
    throw new CliError(
      `${found.file} is the sandbox's generated config (a fake token, a local simulator): a service should run your own config; write a botvisor.json (README: "Running your bots") and run: botvisor startup ${manager} -c /path/to/botvisor.json`,
      EXIT.usage,
    );
  }
  const home = env.HOME ?? os.homedir();
  return manager === 'systemd' ? systemd(found, o, out, env, home) : launchd(found, o, out, home);
}

function systemd(found: FoundConfig<ControlConfig>, o: StartupOptions, out: (s: string) => void, env: NodeJS.ProcessEnv, home: string): number {
  // Root installs a system unit; anyone else a unit of their own systemd --user manager.
  const scope: UnitScope = !o.install && !o.uninstall ? 'system' : process.getuid?.() === 0 ? 'system' : 'user';
  const dir = o.dir ?? (scope === 'system' ? '/etc/systemd/system' : path.join(home, '.config', 'systemd', 'user'));
  const file = path.join(dir, UNIT_NAME);
  const ctl = scope === 'system' ? 'systemctl' : 'systemctl --user';
  if (o.uninstall) {
    if (!existsSync(file)) {
      out(`no unit at ${file}; nothing to remove`);
      return EXIT.ok;
    }
    // What `systemctl disable` removes: the links in the targets' .wants folders.
    for (const wants of readdirSync(dir).filter((d) => d.endsWith('.wants'))) rmSync(path.join(dir, wants, UNIT_NAME), { force: true });
    rmSync(file);
    out(`removed ${file} and its enablement links`);
    out(`stop it and forget it with: ${ctl} stop botvisor; ${ctl} daemon-reload`);
    return EXIT.ok;
  }
  if (o.user !== undefined && scope === 'user') throw new CliError('--user sets the account of a system unit: run with sudo to install one (a unit of your own systemd --user manager runs as you)', EXIT.usage);
  const unit = systemdUnit({ ...unitPaths(found), ...(scope === 'system' ? { user: serviceUser(o.user, env) } : {}) }, scope);
  if (!o.install) {
    out(unit);
    return EXIT.ok;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, unit);
  out(`wrote ${file}`);
  out(`enable it with: ${ctl} daemon-reload && ${ctl} enable --now botvisor`);
  if (scope === 'user') out(`to run it at boot, before you log in: loginctl enable-linger ${os.userInfo().username}`);
  return EXIT.ok;
}

function launchd(found: FoundConfig<ControlConfig>, o: StartupOptions, out: (s: string) => void, home: string): number {
  if (o.user !== undefined) throw new CliError('--user is for systemd: a launchd agent runs as the user who loads it', EXIT.usage);
  const dir = o.dir ?? path.join(home, 'Library', 'LaunchAgents');
  const file = path.join(dir, `${LAUNCHD_LABEL}.plist`);
  const domain = `gui/${process.getuid?.() ?? 501}`;
  if (o.uninstall) {
    if (!existsSync(file)) {
      out(`no property list at ${file}; nothing to remove`);
      return EXIT.ok;
    }
    rmSync(file);
    out(`removed ${file}`);
    out(`stop it and unload it with: launchctl bootout ${domain}/${LAUNCHD_LABEL}`);
    return EXIT.ok;
  }
  const plist = launchdPlist(unitPaths(found));
  if (!o.install) {
    out(plist);
    return EXIT.ok;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, plist);
  out(`wrote ${file}`);
  out(`enable it with: launchctl bootstrap ${domain} ${file}`);
  return EXIT.ok;
}
