/**
 * The service definitions botvisor runs under: a systemd unit and a launchd property list, with
 * absolute paths of node, the CLI and the config. The supervisor orders its own shutdown
 * (auxiliary bots first, the poller last, tree kills), so systemd only sweeps what is left
 * (`KillMode=mixed`) and waits longer than the stop grace before it does. The unit's hardening
 * gives way where the config needs it, and says why in a comment: no `PrivateTmp=` when a
 * configured path is under /tmp, no `NoNewPrivileges=` when a command runs sudo or doas.
 */
import path from 'node:path';

export interface UnitPaths {
  node: string;
  cli: string;
  config: string;
  workingDirectory: string;
  dataDir: string;
  logDir: string;
  /** The polling locks' folder, shared with every other botvisor installation of the user. */
  locksDir: string;
  /** The supervisor's per-bot stop grace, so the service manager waits longer than that. */
  stopGraceMs: number;
  /** The installed README as a file: URL (see documentation-url.ts); no Documentation= line without one. */
  documentation?: string;
  /** The account a system unit runs as (`User=`, `Group=`). */
  user?: { name: string; group: string };
  /** The other paths the config names (bot modules, token files): one under /tmp rules out `PrivateTmp=`. */
  configuredPaths?: string[];
  /** The commands and sessions that run sudo or doas, as `bot /name`: they rule out `NoNewPrivileges=`. */
  sudoCommands?: string[];
}

/** `system`: /etc/systemd/system, with `User=`; `user`: ~/.config/systemd/user, run by the user's own manager. */
export type UnitScope = 'system' | 'user';

function underTmp(p: string): boolean {
  return p === '/tmp' || p.startsWith('/tmp/');
}

export function systemdUnit(p: UnitPaths, scope: UnitScope = 'system'): string {
  const timeoutStopSec = Math.ceil(p.stopGraceMs / 1000) + 20;
  // A private /tmp would hide every configured path under /tmp from the service.
  const inTmp = [p.config, p.dataDir, p.logDir, ...(p.configuredPaths ?? [])].filter(underTmp);
  // The polling locks must be the ones every other installation of this user sees: no private /tmp.
  const locks = underTmp(p.locksDir)
    ? `# The polling locks live in ${p.locksDir}, shared with every botvisor of this user (no PrivateTmp=,\n# which would hide them from the others and let two installations poll one token).\nReadWritePaths=${p.dataDir} ${p.logDir} /tmp`
    : `# The polling locks live in ${p.locksDir}, shared with every botvisor of this user.\nReadWritePaths=${p.dataDir} ${p.logDir} ${p.locksDir}\n${
        inTmp.length > 0 ? `# No PrivateTmp=: it would hide ${[...new Set(inTmp)].join(', ')}, under /tmp.` : 'PrivateTmp=true'
      }`;
  const sudo = p.sudoCommands ?? [];
  const noNewPrivileges =
    sudo.length > 0 ? `# No NoNewPrivileges=: ${sudo.join(', ')} run${sudo.length === 1 ? 's' : ''} sudo or doas, which must gain privileges to work.` : 'NoNewPrivileges=true';
  const account =
    scope === 'user'
      ? '# A user unit runs as the user whose systemd --user manager loads it: no User= or Group=.\n'
      : p.user !== undefined
        ? `User=${p.user.name}\nGroup=${p.user.group}\n`
        : '';
  return `[Unit]
Description=botvisor: Telegram bot fleet supervisor
${p.documentation !== undefined ? `Documentation=${p.documentation}\n` : ''}After=network-online.target
Wants=network-online.target

[Service]
Type=exec
${account}ExecStart=${p.node} ${p.cli} start -c ${p.config}
WorkingDirectory=${p.workingDirectory}
Environment=NODE_ENV=production
# The supervisor stops the bots in order and kills their trees; systemd sweeps only what is left.
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=${timeoutStopSec}
Restart=on-failure
RestartSec=5
# Hardening: the bots write only their data, logs and polling locks.
${noNewPrivileges}
ProtectSystem=strict
${locks}
ProtectControlGroups=true
ProtectKernelTunables=true
ProtectKernelModules=true
RestrictSUIDSGID=true
LockPersonality=true

[Install]
WantedBy=${scope === 'user' ? 'default.target' : 'multi-user.target'}
`;
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const LAUNCHD_LABEL = 'dev.botvisor.supervisor';

export function launchdPlist(p: UnitPaths): string {
  const args = [p.node, p.cli, 'start', '-c', p.config].map((a) => `      <string>${xml(a)}</string>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
  <dict>
    <key>Label</key>
    <string>${LAUNCHD_LABEL}</string>
    <key>ProgramArguments</key>
    <array>
${args}
    </array>
    <key>WorkingDirectory</key>
    <string>${xml(p.workingDirectory)}</string>
    <key>RunAtLoad</key>
    <true/>
    <!-- Restart only after a failure: 'botvisor stop' exits 0 and stays stopped. -->
    <key>KeepAlive</key>
    <dict>
      <key>SuccessfulExit</key>
      <false/>
    </dict>
    <key>ThrottleInterval</key>
    <integer>10</integer>
    <key>ExitTimeOut</key>
    <integer>${Math.ceil(p.stopGraceMs / 1000) + 20}</integer>
    <key>ProcessType</key>
    <string>Background</string>
    <key>StandardOutPath</key>
    <string>${xml(path.join(p.logDir, 'launchd.out.log'))}</string>
    <key>StandardErrorPath</key>
    <string>${xml(path.join(p.logDir, 'launchd.err.log'))}</string>
  </dict>
</plist>
`;
}
