import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { acquirePollingLock, isAlive, ownerPathFor, pollingLockPath, readLockOwner } from '@botvisor/core';
import type { StatusReport } from '@botvisor/supervisor';
import { exited, fakeToken, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import plistLib from 'plist';
import { CLI, type CliRun, runCli } from './support/run-cli.js';

const BOT = fileURLToPath(new URL('./fixtures/echo-bot.js', import.meta.url));
const run = promisify(execFile);

const token = fakeToken;

/** Prometheus text exposition: comments, or `name{labels} value`. */
function assertPrometheusText(text: string): void {
  const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$/;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    expect(line, 'a Prometheus sample line').to.match(sample);
  }
}

describe('botvisor CLI (real processes)', function () {
  this.timeout(120_000);
  const bed = useTestbed();

  function installation(bots: object[], supervisor: object = {}): { dir: string; config: string; dataDir: string; locksDir: string } {
    const dir = bed.temp.make('botvisor-cli-');
    const config = path.join(dir, 'botvisor.json');
    // The test's own lock folder: never the machine's real one.
    const locksDir = path.join(dir, 'locks');
    writeFileSync(config, JSON.stringify({ apiRoot: bed.sim.url, http: { port: 0 }, locksDir, supervisor: { stopGraceMs: 3000, ...supervisor }, bots }));
    return { dir, config, dataDir: path.join(dir, 'data'), locksDir };
  }

  const botvisor = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => runCli(bed.tracker, args, env);

  async function status(config: string): Promise<StatusReport> {
    const r = await botvisor(['status', '--json', '-c', config]);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as StatusReport;
  }

  it('start --detach, status --json, restart, logs, health and metrics, a refused second start, stop', async () => {
    const t = token();
    const inst = installation([{ name: 'main', module: BOT, token: t }, { name: 'alerts-ish', module: BOT, token: t }]);
    const started = await botvisor(['start', '--detach', '-c', inst.config]);
    expect(started.code, started.stderr).to.equal(0);
    expect(started.stdout).to.match(/main\s+ready/);

    const s1 = await status(inst.config);
    expect(s1.bots.map((b) => [b.name, b.state, b.polling])).to.deep.equal([['main', 'ready', true], ['alerts-ish', 'ready', false]]);
    expect(s1.bots[0]).to.include.keys('pid', 'restarts', 'uptimeMs', 'cpu', 'memoryBytes', 'lastExit', 'children');
    expect(s1.supervisor.locks).to.have.length(1);
    const socket = path.join(inst.dataDir, 'supervisor.sock');
    expect(statSync(socket).mode & 0o777).to.equal(0o600);

    const health = await fetch(`${s1.supervisor.httpUrl}/health`);
    expect(health.status).to.equal(200);

    const restarted = await botvisor(['restart', 'main', '-c', inst.config]);
    expect(restarted.code, restarted.stderr).to.equal(0);
    const s2 = await status(inst.config);
    expect(s2.bots[0]).to.include({ name: 'main', state: 'ready', restarts: 1 });
    const metrics = await (await fetch(`${s1.supervisor.httpUrl}/metrics`)).text();
    assertPrometheusText(metrics);
    expect(metrics).to.match(/^botvisor_restarts_total\{bot="main",cause="manual"\} 1$/m);
    expect(metrics).to.match(/^botvisor_bot_state\{bot="main",state="ready"\} 1$/m);
    expect(metrics).to.include('process_resident_memory_bytes');

    const logs = await botvisor(['logs', 'main', '-n', '5', '-c', inst.config]);
    expect(logs.code).to.equal(0);
    expect(logs.stdout.trim().split('\n')).to.have.length(5);
    expect(logs.stdout).to.match(/^\d{4}-\d{2}-\d{2} [\d:]+Z (INFO|WARNING|ERROR|DEBUG)\s+main: /m);

    const second = await botvisor(['start', '-c', inst.config]);
    expect(second.code).to.equal(1);
    expect(second.stderr).to.include(`botvisor is already running (pid ${s1.supervisor.pid}, since`);

    const stopped = await botvisor(['stop', '-c', inst.config]);
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(isAlive({ pid: s1.supervisor.pid, startTime: readLockOwner(path.join(inst.dataDir, 'supervisor', 'supervisor.lock'))?.startTime ?? 0 })).to.equal(false);
    for (const b of s2.bots) expect(b.pid === null || !existsSync(`/proc/${b.pid}`), `bot ${b.name} pid ${b.pid} left running`).to.equal(true);
    expect(existsSync(socket)).to.equal(false);
    const after = await botvisor(['status', '-c', inst.config]);
    expect(after.code).to.equal(3);
    expect(after.stderr).to.match(/botvisor is not running for .*; start it with: botvisor start -c /);
  });

  it('control commands need no secret: status, logs, restart, doctor and stop with the tokenEnv variable unset', async () => {
    const dir = bed.temp.make('botvisor-cli-');
    const config = path.join(dir, 'botvisor.json');
    writeFileSync(config, JSON.stringify({ apiRoot: bed.sim.url, http: { port: 0 }, supervisor: { stopGraceMs: 3000 }, bots: [{ name: 'main', module: BOT, tokenEnv: 'CLI_TEST_BOT_TOKEN' }] }));
    expect(process.env.CLI_TEST_BOT_TOKEN, 'the variable is unset in the shell the control commands run in').to.equal(undefined);
    const refused = await botvisor(['start', '--detach', '-c', config]);
    expect(refused.code, 'start needs the token').to.equal(78);
    expect(refused.stderr).to.include('bots[0].tokenEnv: environment variable CLI_TEST_BOT_TOKEN is not set');
    const started = await botvisor(['start', '--detach', '-c', config], { CLI_TEST_BOT_TOKEN: token() });
    expect(started.code, started.stderr).to.equal(0);

    const status = await botvisor(['status', '-c', config]);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.match(/^main\s+ready\s+\d+/m);
    const logs = await botvisor(['logs', 'main', '-n', '3', '-c', config]);
    expect(logs.code, logs.stderr).to.equal(0);
    const restarted = await botvisor(['restart', 'main', '-c', config]);
    expect(restarted.code, restarted.stderr).to.equal(0);
    expect(restarted.stdout).to.include('restarted main: ready');
    const doctor = await botvisor(['doctor', '-c', config]);
    expect(doctor.code, doctor.stdout).to.equal(0);
    expect(doctor.stdout).to.include('? bot main: token not checked: $CLI_TEST_BOT_TOKEN is not set in this shell (only the supervisor needs it)').and.include('no problems found');
    expect(doctor.stdout).to.not.include('webhook');
    const stopped = await botvisor(['stop', '-c', config]);
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(stopped.stdout).to.match(/^stopped \(supervisor pid \d+\)$/m);
    const again = await botvisor(['stop', '-c', config]);
    expect(again.code, 'stop with nothing running succeeds, as systemctl stop does').to.equal(0);
    expect(again.stdout).to.equal(`botvisor is not running for ${path.join(dir, 'data')}; nothing to stop\n`);
  });

  it('a port in use is one sentence naming http.port and the config; "http": false serves no HTTP; --version', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    bed.onCleanup(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as AddressInfo).port;
    const dir = bed.temp.make('botvisor-cli-');
    const config = path.join(dir, 'botvisor.json');
    const write = (http: unknown): void => writeFileSync(config, JSON.stringify({ apiRoot: bed.sim.url, http, supervisor: { stopGraceMs: 3000 }, bots: [{ name: 'main', module: BOT, token: token() }] }));
    write({ port });
    const taken = await botvisor(['start', '--detach', '-c', config]);
    expect(taken.code).to.equal(1);
    expect(taken.stderr).to.equal(`botvisor: http.port ${port} on 127.0.0.1 is already in use; set http.port in ${config} to a free port (0 picks any), or "http": false to run without HTTP\n`);
    const foreground = await botvisor(['start', '-c', config]);
    expect(foreground.code).to.equal(1);
    expect(foreground.stderr).to.equal(taken.stderr);

    write(false);
    const started = await botvisor(['start', '--detach', '-c', config]);
    expect(started.code, started.stderr).to.equal(0);
    const s = await status(config);
    expect(s.supervisor.httpUrl).to.equal(null);
    const supervisorLog = readFileSync(path.join(dir, 'logs', 'supervisor.log'), 'utf8');
    expect(supervisorLog).to.not.include('HTTP server listening');
    expect((await botvisor(['stop', '-c', config])).code).to.equal(0);

    const version = await botvisor(['--version']);
    expect(version.code).to.equal(0);
    const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
    expect(version.stdout).to.equal(`${manifest.version}\n`);
  });

  it('a second installation on the same token: start --detach says at once which supervisor holds the lock; that one never polls until the first stops', async () => {
    const t = token();
    const first = installation([{ name: 'main', module: BOT, token: t }]);
    const second = installation([{ name: 'copy', module: BOT, token: t }]);
    // One user, one machine: both find the same lock folder (the test's own, not the real one).
    writeFileSync(second.config, JSON.stringify({ ...JSON.parse(readFileSync(second.config, 'utf8')), locksDir: first.locksDir }));
    expect((await botvisor(['start', '--detach', '-c', first.config])).code).to.equal(0);
    bed.onCleanup(async () => void (await botvisor(['stop', '-c', first.config])));
    const startedAt = Date.now();
    const r = await botvisor(['start', '--detach', '-c', second.config]);
    bed.onCleanup(async () => void (await botvisor(['stop', '-c', second.config])));
    expect(r.code, r.stdout).to.equal(1);
    expect(Date.now() - startedAt, 'start --detach answers well before its time-out').to.be.below(20_000);
    const holder = (await status(first.config)).supervisor.pid;
    expect(r.stderr).to.match(new RegExp(`bot copy waits: polling lock for this token is held by supervisor pid ${holder} \\(config ${first.config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    const copy = (await status(second.config)).bots.find((b) => b.name === 'copy');
    expect(copy?.state).to.equal('waiting');
    expect(copy?.pid, 'the waiting bot is not even forked').to.equal(null);
    expect((await botvisor(['stop', '-c', first.config])).code).to.equal(0);
    await waitFor(async () => (await status(second.config)).bots.find((b) => b.name === 'copy')?.state === 'ready', { timeoutMs: 20_000, what: 'the second installation to take over' });
  });

  it('stop works with the control socket deleted, from the owner record', async () => {
    const inst = installation([{ name: 'main', module: BOT, token: token() }]);
    expect((await botvisor(['start', '--detach', '-c', inst.config])).code).to.equal(0);
    const pid = readLockOwner(path.join(inst.dataDir, 'supervisor', 'supervisor.lock'))?.pid as number;
    rmSync(path.join(inst.dataDir, 'supervisor.sock'));
    const stopped = await botvisor(['stop', '-c', inst.config]);
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(stopped.stdout).to.include(`sending SIGTERM to supervisor pid ${pid}`);
    await waitFor(() => !existsSync(`/proc/${pid}`), { what: 'the supervisor to be gone' });
  });

  it('/health answers 503 while a bot is in backoff, with each bot\'s state', async () => {
    const inst = installation([{ name: 'main', module: BOT, token: token() }, { name: 'flaky', module: BOT, token: token() }], { backoffInitialMs: 20_000, backoffMaxMs: 20_000 });
    const started = await botvisor(['start', '--detach', '--wait', '3000', '-c', inst.config], { FIXTURE_CRASH: 'flaky' });
    expect(started.code).to.equal(1);
    const s = await waitFor(async () => {
      const st = await status(inst.config);
      return st.bots.find((b) => b.name === 'flaky')?.state === 'backoff' && st.bots.find((b) => b.name === 'main')?.state === 'ready' ? st : undefined;
    }, { what: 'flaky in backoff and main ready' });
    const res = await fetch(`${s.supervisor.httpUrl}/health`);
    expect(res.status).to.equal(503);
    const body = (await res.json()) as { status: string; bots: Array<{ name: string; state: string }> };
    expect(body.status).to.equal('degraded');
    expect(body.bots.find((b) => b.name === 'flaky')?.state).to.equal('backoff');
    expect((await botvisor(['stop', '-c', inst.config])).code).to.equal(0);
  });

  it('start --detach says which bot failed and why when a bot errors', async () => {
    const inst = installation([{ name: 'main', module: BOT, token: token() }], { backoffInitialMs: 50, crashBudget: 2 });
    const started = await botvisor(['start', '--detach', '-c', inst.config], { FIXTURE_CRASH: 'main' });
    expect(started.code).to.equal(1);
    expect(started.stderr).to.match(/bot main failed to start: start-up failed \(exit code 3\) and the bot said nothing on stderr \(3 failed starts in a row\); fix it, then run 'botvisor restart main' \(it is also tried again every 5 min\)\nThe supervisor \(pid \d+\) keeps running; the bot's output: botvisor logs main/);
    expect((await botvisor(['stop', '-c', inst.config])).code).to.equal(0);
  });

  it('says plainly when there is no config, and when an argument is wrong', async () => {
    const dir = bed.temp.make();
    const none = bed.tracker.spawn(process.execPath, [CLI, 'status'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BOTVISOR_CONFIG: '' } });
    let err = '';
    none.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    expect(await exited(none)).to.equal(78);
    expect(err).to.include('no config found: pass -c <file>, set BOTVISOR_CONFIG, or create ./botvisor.json');
    const inst = installation([{ name: 'main', module: BOT, token: token() }]);
    const bad = await botvisor(['logs', '-n', 'many', '-c', inst.config]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('--lines must be a whole number');
    const unknown = await botvisor(['restart', 'ghost', '-c', inst.config]);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include('no bot named "ghost"');
    const usage = await botvisor(['frobnicate']);
    expect(usage.code).to.equal(2);
    const help = await botvisor(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('start').and.include('doctor');
  });

  it('doctor: happy with a clean installation; warns about a webhook, a stale lock and a lock another installation holds', async () => {
    const t = token();
    const inst = installation([{ name: 'main', module: BOT, token: t }]);
    const clean = await botvisor(['doctor', '-c', inst.config]);
    expect(clean.code, clean.stdout).to.equal(0);
    expect(clean.stdout).to.include('✓ bot main: no webhook set').and.include('no problems found');
    await fetch(`${bed.sim.url}/bot${t}/setWebhook?url=https://example.invalid/hook`);
    const hooked = await botvisor(['doctor', '-c', inst.config]);
    expect(hooked.stdout).to.include('! bot main: a webhook is set (https://example.invalid/hook)');
    // A lock of this bot's token left by a process that is gone.
    const lock = pollingLockPath(inst.locksDir, t);
    mkdirSync(lock, { recursive: true });
    writeFileSync(ownerPathFor(lock), JSON.stringify({ pid: 999_999, startTime: 1, role: 'main', hostname: hostname(), since: '2020-01-01T00:00:00.000Z' }));
    const stale = await botvisor(['doctor', '-c', inst.config]);
    expect(stale.stdout).to.include(`! bot main: stale polling lock ${lock}: its owner (main pid 999999) is dead; botvisor start removes it`);
    // The same token's lock held by another installation (a live process: this test).
    rmSync(lock, { recursive: true });
    const held = await acquirePollingLock({ locksDir: inst.locksDir, token: t, role: 'supervisor', config: '/srv/other/botvisor.json' });
    try {
      const elsewhere = await botvisor(['doctor', '-c', inst.config]);
      expect(elsewhere.stdout).to.include(`! bot main: polling lock for this token is held by supervisor pid ${process.pid} (config /srv/other/botvisor.json), another installation`);
    } finally {
      await held.release();
    }
  });

  it('startup systemd prints a unit that systemd-analyze verifies; startup launchd a valid property list', async () => {
    const inst = installation([{ name: 'main', module: BOT, token: token() }]);
    const unit = await botvisor(['startup', 'systemd', '-c', inst.config]);
    expect(unit.code).to.equal(0);
    expect(unit.stdout).to.include(`ExecStart=${process.execPath} ${CLI} start -c ${inst.config}`).and.include('KillMode=mixed').and.include('ProtectSystem=strict');
    const docs = /^Documentation=(file:\S+)$/m.exec(unit.stdout)?.[1];
    expect(docs, 'Documentation= names the installed README').to.be.a('string');
    expect(existsSync(fileURLToPath(docs as string)), `${docs} exists`).to.equal(true);
    const unitFile = path.join(inst.dir, 'botvisor.service');
    writeFileSync(unitFile, unit.stdout);
    const verify = await run('systemd-analyze', ['verify', unitFile]).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    expect(verify.code, verify.out).to.equal(0);
    const plist = await botvisor(['startup', 'launchd', '-c', inst.config]);
    const plistFile = path.join(inst.dir, 'botvisor.plist');
    writeFileSync(plistFile, plist.stdout);
    const data = plistLib.parse(readFileSync(plistFile, 'utf8')) as { KeepAlive: { SuccessfulExit: boolean }; ProgramArguments: string[]; ThrottleInterval: number };
    expect(data.ThrottleInterval).to.equal(10);
    expect(data.KeepAlive.SuccessfulExit).to.equal(false);
    expect(data.ProgramArguments).to.deep.equal([process.execPath, CLI, 'start', '-c', inst.config]);
    // --dir: never the machine's own /etc/systemd/system (the tests may run as root); startup.test.ts tests the rest.
    const installed = await botvisor(['startup', 'systemd', '--install', '--dir', bed.temp.make(), '-c', inst.config]);
    expect(installed.code).to.equal(0);
    expect(installed.stdout).to.match(/wrote .*botvisor\.service\nenable it with: systemctl/);
  });
});

describe('ops/ unit files', () => {
  it('are exactly what `botvisor startup` generates for the example paths', async () => {
    const { launchdPlist, systemdUnit } = await import('../src/service-units.js');
    const root = fileURLToPath(new URL('../../../../', import.meta.url));
    const p = { node: '/usr/bin/node', cli: '/opt/botvisor/packages/cli/dist/bundle/botvisor.js', config: '/etc/botvisor/botvisor.json', workingDirectory: '/etc/botvisor', dataDir: '/var/lib/botvisor', logDir: '/var/log/botvisor', locksDir: '/tmp/botvisor-999/locks', stopGraceMs: 10_000, documentation: 'file:///opt/botvisor/README.md', user: { name: 'botvisor', group: 'botvisor' } };
    expect(readFileSync(path.join(root, 'ops/systemd/botvisor.service'), 'utf8')).to.equal(systemdUnit(p));
    const mac = { ...p, node: '/usr/local/bin/node', cli: '/usr/local/lib/botvisor/packages/cli/dist/bundle/botvisor.js', config: '/usr/local/etc/botvisor/botvisor.json', workingDirectory: '/usr/local/etc/botvisor', dataDir: '/usr/local/var/botvisor/data', logDir: '/usr/local/var/log/botvisor' };
    expect(readFileSync(path.join(root, 'ops/launchd/dev.botvisor.supervisor.plist'), 'utf8')).to.equal(launchdPlist(mac));
  });
});
