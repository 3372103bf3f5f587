import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fakeToken, useTestbed } from '@botvisor/testkit';
import { expect } from 'chai';
import { detectInitSystem } from '../src/init-system.js';
import { systemdUnit, type UnitPaths } from '../src/service-units.js';
import { CLI, type CliRun, runCli } from './support/run-cli.js';

const BOT = fileURLToPath(new URL('./fixtures/echo-bot.js', import.meta.url));
const run = promisify(execFile);

/** systemd's own check of a unit file: exit 0 and what it said. */
async function verify(file: string): Promise<{ code: number; out: string }> {
  return run('systemd-analyze', ['verify', file]).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
}

const groupOf = async (user: string): Promise<string> => (await run('id', ['-gn', user])).stdout.trim();

describe('botvisor startup', function () {
  this.timeout(60_000);
  const bed = useTestbed();

  const botvisor = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => runCli(bed.tracker, args, env);

  function installation(bot: object = {}): { dir: string; config: string } {
    const dir = bed.temp.make('botvisor-startup-');
    const config = path.join(dir, 'botvisor.json');
    writeFileSync(config, JSON.stringify({ apiRoot: bed.sim.url, locksDir: path.join(dir, 'locks'), bots: [{ name: 'main', module: BOT, token: fakeToken(), ...bot }] }));
    return { dir, config };
  }

  async function verified(dir: string, unit: string): Promise<void> {
    const file = path.join(dir, 'botvisor.service');
    writeFileSync(file, unit);
    const v = await verify(file);
    expect(v.code, v.out).to.equal(0);
  }

  it('finds the init system: systemd when /run/systemd/system exists, launchd on macOS, else none', () => {
    expect(detectInitSystem({ platform: 'linux', exists: (p) => p === '/run/systemd/system' })).to.equal('systemd');
    expect(detectInitSystem({ platform: 'darwin', exists: () => false })).to.equal('launchd');
    expect(detectInitSystem({ platform: 'linux', exists: () => false })).to.equal(undefined);
    expect(detectInitSystem({ platform: 'freebsd', exists: () => true })).to.equal(undefined);
  });

  it('with no manager named, uses this machine\'s, or says plainly that it has none', async () => {
    const inst = installation();
    const r = await botvisor(['startup', '-c', inst.config]);
    if (existsSync('/run/systemd/system')) {
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include('[Service]');
    } else {
      expect(r.code).to.equal(2);
      expect(r.stderr).to.equal('botvisor: no service manager found: this machine runs neither systemd (no /run/systemd/system) nor launchd (not macOS); name one: botvisor startup systemd|launchd\n');
    }
  });

  it('runs the unit as the invoking user (the one behind sudo) or --user NAME; an unknown user is refused', async () => {
    const inst = installation();
    // As root, the invoking user is the one sudo names; anyone else is themselves.
    const invoking = process.getuid?.() === 0 ? 'nobody' : os.userInfo().username;
    const mine = await botvisor(['startup', 'systemd', '-c', inst.config], { SUDO_USER: 'nobody' });
    expect(mine.code, mine.stderr).to.equal(0);
    expect(mine.stdout).to.include(`[Service]\nType=exec\nUser=${invoking}\nGroup=${await groupOf(invoking)}\nExecStart=`);
    await verified(inst.dir, mine.stdout);
    const named = await botvisor(['startup', 'systemd', '--user', 'nobody', '-c', inst.config]);
    expect(named.stdout).to.include(`User=nobody\nGroup=${await groupOf('nobody')}\n`);
    const ghost = await botvisor(['startup', 'systemd', '--user', 'no-such-user-here', '-c', inst.config]);
    expect(ghost.code).to.equal(2);
    expect(ghost.stderr).to.equal('botvisor: --user no-such-user-here: no such user on this machine\n');
    expect((await botvisor(['startup', 'launchd', '--user', 'nobody', '-c', inst.config])).code, 'a launchd agent runs as whoever loads it').to.equal(2);
  });

  it('leaves out NoNewPrivileges= when a command or session runs sudo or doas, and says why in the unit', async () => {
    const plain = installation({ allow: [1001], commands: { up: { argv: ['uptime'] } } });
    const safe = await botvisor(['startup', 'systemd', '-c', plain.config]);
    expect(safe.stdout).to.include('\nNoNewPrivileges=true\n');
    const inst = installation({
      allow: [1001],
      commands: { restart_web: { argv: ['/usr/bin/sudo', 'systemctl', 'restart', 'nginx'] }, up: { argv: ['uptime'] } },
      sessions: { root: { argv: ['doas', 'sh'], protocol: 'lines' } },
    });
    const r = await botvisor(['startup', 'systemd', '-c', inst.config]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.not.match(/^NoNewPrivileges=/m);
    expect(r.stdout).to.include('# No NoNewPrivileges=: main /restart_web, main /root run sudo or doas, which must gain privileges to work.\n');
    await verified(inst.dir, r.stdout);
  });

  it('drops PrivateTmp= when any configured path is under /tmp (the locks, the config, a module, a token file), and keeps it otherwise', async () => {
    const dir = bed.temp.make('botvisor-units-');
    const p: UnitPaths = {
      node: process.execPath,
      cli: CLI,
      config: '/etc/botvisor/botvisor.json',
      workingDirectory: '/etc/botvisor',
      dataDir: '/var/lib/botvisor',
      logDir: '/var/log/botvisor',
      locksDir: '/run/botvisor/locks',
      stopGraceMs: 10_000,
      user: { name: 'nobody', group: await groupOf('nobody') },
      configuredPaths: ['/opt/bots/main.js'],
    };
    const hardened = systemdUnit(p);
    expect(hardened).to.include('\nPrivateTmp=true\n');
    await verified(dir, hardened);
    const moduleInTmp = systemdUnit({ ...p, configuredPaths: ['/opt/bots/main.js', '/tmp/bots/main.js'] });
    expect(moduleInTmp).to.not.match(/^PrivateTmp=/m);
    expect(moduleInTmp).to.include('# No PrivateTmp=: it would hide /tmp/bots/main.js, under /tmp.\n');
    await verified(dir, moduleInTmp);
    expect(systemdUnit({ ...p, config: '/tmp/b/botvisor.json' })).to.include('# No PrivateTmp=: it would hide /tmp/b/botvisor.json, under /tmp.');
    const locksInTmp = systemdUnit({ ...p, locksDir: '/tmp/botvisor-0/locks' });
    expect(locksInTmp).to.not.match(/^PrivateTmp=/m);
    expect(locksInTmp).to.include('ReadWritePaths=/var/lib/botvisor /var/log/botvisor /tmp\n');
    // A unit of the user's own systemd --user manager: no User=, wanted by default.target.
    const userUnit = systemdUnit(p, 'user');
    expect(userUnit).to.not.match(/^User=/m);
    expect(userUnit).to.include('WantedBy=default.target');
    await verified(dir, userUnit);
  });

  it('refuses the sandbox\'s generated config, saying what to run instead', async () => {
    const inst = installation();
    writeFileSync(path.join(inst.dir, 'sandbox.token'), fakeToken(), { mode: 0o600 });
    const r = await botvisor(['startup', 'systemd', '-c', inst.config]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal(
      `botvisor: ${inst.config} is the sandbox's generated config (a fake token, a local simulator): a service should run your own config; write a botvisor.json (README: "Running your bots") and run: botvisor startup systemd -c /path/to/botvisor.json\n`,
    );
  });

  it('--install writes the unit and prints the exact enable command; --uninstall removes it and its enablement links', async () => {
    const inst = installation();
    const dir = bed.temp.make('botvisor-units-');
    const root = process.getuid?.() === 0;
    const ctl = root ? 'systemctl' : 'systemctl --user';
    const installed = await botvisor(['startup', 'systemd', '--install', '--dir', dir, '-c', inst.config]);
    expect(installed.code, installed.stderr).to.equal(0);
    const file = path.join(dir, 'botvisor.service');
    expect(installed.stdout.split('\n')[0]).to.equal(`wrote ${file}`);
    expect(installed.stdout).to.include(`enable it with: ${ctl} daemon-reload && ${ctl} enable --now botvisor\n`);
    expect(readFileSync(file, 'utf8')).to.include(`ExecStart=${process.execPath} ${CLI} start -c ${inst.config}`);
    await verified(bed.temp.make('botvisor-units-'), readFileSync(file, 'utf8'));
    // What `systemctl enable` makes: a link in the target's .wants folder.
    mkdirSync(path.join(dir, 'multi-user.target.wants'));
    symlinkSync(file, path.join(dir, 'multi-user.target.wants', 'botvisor.service'));
    const removed = await botvisor(['startup', 'systemd', '--uninstall', '--dir', dir, '-c', inst.config]);
    expect(removed.code, removed.stderr).to.equal(0);
    expect(removed.stdout).to.equal(`removed ${file} and its enablement links\nstop it and forget it with: ${ctl} stop botvisor; ${ctl} daemon-reload\n`);
    expect(existsSync(file)).to.equal(false);
    expect(existsSync(path.join(dir, 'multi-user.target.wants', 'botvisor.service'))).to.equal(false);
    const nothing = await botvisor(['startup', 'systemd', '--uninstall', '--dir', dir, '-c', inst.config]);
    expect(nothing.code).to.equal(0);
    expect(nothing.stdout).to.equal(`no unit at ${file}; nothing to remove\n`);
    expect((await botvisor(['startup', 'systemd', '--install', '--uninstall', '--dir', dir, '-c', inst.config])).code).to.equal(2);

    const agents = bed.temp.make('botvisor-agents-');
    const plist = path.join(agents, 'dev.botvisor.supervisor.plist');
    const mac = await botvisor(['startup', 'launchd', '--install', '--dir', agents, '-c', inst.config]);
    expect(mac.stdout).to.equal(`wrote ${plist}\nenable it with: launchctl bootstrap gui/${process.getuid?.()} ${plist}\n`);
    const unmac = await botvisor(['startup', 'launchd', '--uninstall', '--dir', agents, '-c', inst.config]);
    expect(unmac.stdout).to.equal(`removed ${plist}\nstop it and unload it with: launchctl bootout gui/${process.getuid?.()}/dev.botvisor.supervisor\n`);
    expect(existsSync(plist)).to.equal(false);
  });
});
