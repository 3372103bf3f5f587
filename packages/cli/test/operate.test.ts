import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusReport } from '@botvisor/supervisor';
import { fakeToken, useTestbed } from '@botvisor/testkit';
import { expect } from 'chai';
import type { DescribeReport } from '../src/commands/describe.js';
import { type CliRun, runCli } from './support/run-cli.js';

const BOT = fileURLToPath(new URL('./fixtures/echo-bot.js', import.meta.url));

/** The commands people run day to day on a running fleet: one bot's stop and start, an edited config, the merged logs, describe. */
describe('operating a running fleet (real processes)', function () {
  this.timeout(120_000);
  const bed = useTestbed();

  function installation(bots: object[]): { dir: string; config: string; write: (bots: object[]) => void } {
    const dir = bed.temp.make('botvisor-operate-');
    const config = path.join(dir, 'botvisor.json');
    const write = (list: object[]): void =>
      writeFileSync(config, JSON.stringify({ apiRoot: bed.sim.url, http: { port: 0 }, locksDir: path.join(dir, 'locks'), supervisor: { stopGraceMs: 3000 }, bots: list }));
    write(bots);
    return { dir, config, write };
  }

  const botvisor = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => runCli(bed.tracker, args, env);

  async function status(config: string): Promise<StatusReport> {
    const r = await botvisor(['status', '--json', '-c', config]);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as StatusReport;
  }

  async function started(config: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
    const r = await botvisor(['start', '--detach', '-c', config], env);
    expect(r.code, r.stderr).to.equal(0);
    bed.onCleanup(async () => void (await botvisor(['stop', '-c', config])));
  }

  const pids = (s: StatusReport): Record<string, number | null> => Object.fromEntries(s.bots.map((b) => [b.name, b.pid]));

  it('stop <bot> and start <bot>: one bot stops and stays stopped (restart all, /health), the others keep their processes', async () => {
    const t = fakeToken();
    const inst = installation([
      { name: 'main', module: BOT, token: t },
      { name: 'helper', module: BOT, token: t },
      { name: 'other', module: BOT, token: fakeToken() },
    ]);
    await started(inst.config);
    const before = await status(inst.config);

    const stopped = await botvisor(['stop', 'main', '-c', inst.config]);
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(stopped.stdout).to.equal(`stopped main (pid ${before.bots[0]?.pid}); it stays stopped until: botvisor start main\n`);
    const s1 = await status(inst.config);
    expect(s1.bots.find((b) => b.name === 'main')).to.include({ state: 'stopped', pid: null, stoppedByPerson: true });
    expect(pids(s1)).to.deep.include({ helper: before.bots[1]?.pid, other: before.bots[2]?.pid });
    const table = await botvisor(['status', '-c', inst.config]);
    expect(table.stdout).to.match(/^main\s+stopped\s+-/m).and.include('stopped by a person (they stay stopped):\n  main: start it with: botvisor start main');
    // A bot a person stopped is not a failure: /health leaves it out, like a disabled one.
    const health = await fetch(`${s1.supervisor.httpUrl}/health`);
    expect(health.status).to.equal(200);
    expect(((await health.json()) as { bots: Array<{ name: string }> }).bots.map((b) => b.name)).to.deep.equal(['helper', 'other']);

    const all = await botvisor(['restart', 'all', '-c', inst.config]);
    expect(all.code, all.stderr).to.equal(0);
    const s2 = await status(inst.config);
    expect(s2.bots.find((b) => b.name === 'main'), 'restart all leaves a stopped bot stopped').to.include({ state: 'stopped', pid: null });
    expect(s2.bots.find((b) => b.name === 'other')?.pid).to.not.equal(before.bots[2]?.pid);

    const again = await botvisor(['start', 'main', '-c', inst.config]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/^started main: ready \(pid \d+\)$/m);
    const s3 = await status(inst.config);
    expect(s3.bots.find((b) => b.name === 'main')).to.include({ state: 'ready', stoppedByPerson: false });
    expect(pids(s3), 'starting one bot touches no other').to.deep.include({ helper: s2.bots[1]?.pid, other: s2.bots[2]?.pid });
    const running = await botvisor(['start', 'main', '-c', inst.config]);
    expect(running.code, 'starting a running bot leaves it as it is').to.equal(0);
    expect((await status(inst.config)).bots[0]?.pid).to.equal(s3.bots[0]?.pid);

    const ghost = await botvisor(['stop', 'ghost', '-c', inst.config]);
    expect(ghost.code).to.equal(2);
    expect(ghost.stderr).to.include('no bot named "ghost"');
    expect((await botvisor(['start', 'main', '--detach', '-c', inst.config])).code).to.equal(2);
    expect((await botvisor(['stop', '-c', inst.config])).code).to.equal(0);
    const notRunning = await botvisor(['stop', 'main', '-c', inst.config]);
    expect(notRunning.code, 'nothing running is nothing to stop').to.equal(0);
    expect(notRunning.stdout).to.include('main is not running, nothing to stop');
    const cannotStart = await botvisor(['start', 'main', '-c', inst.config]);
    expect(cannotStart.code).to.equal(3);
    expect(cannotStart.stderr).to.include(`start it with: botvisor start -c ${inst.config} --detach`);
  });

  it('a second start --detach: the same config is already running (exit 0); an edited one says the fleet runs the old config and how to apply it', async () => {
    const inst = installation([{ name: 'main', module: BOT, token: fakeToken() }]);
    await started(inst.config);
    const s = await status(inst.config);
    expect(s.supervisor.configFile).to.equal(inst.config);
    expect(s.supervisor.configHash).to.match(/^[0-9a-f]{64}$/);
    const same = await botvisor(['start', '--detach', '-c', inst.config]);
    expect(same.code, same.stderr).to.equal(0);
    expect(same.stdout).to.include(`botvisor is already running (pid ${s.supervisor.pid}, since ${s.supervisor.startedAt}) with this config`).and.match(/main\s+ready/);

    inst.write([{ name: 'main', module: BOT, token: fakeToken() }, { name: 'second', module: BOT, token: fakeToken() }]);
    const changed = await botvisor(['start', '--detach', '-c', inst.config]);
    expect(changed.code).to.equal(1);
    expect(changed.stdout).to.equal('');
    expect(changed.stderr).to.equal(
      `botvisor: botvisor is already running; ${inst.config} has changed since the supervisor (pid ${s.supervisor.pid}) started at ${s.supervisor.startedAt}: the running fleet uses the old config (not running: second); to apply the new one: botvisor reload (nothing is lost; or botvisor stop && botvisor start --detach)\n`,
    );
    const table = await botvisor(['status', '-c', inst.config]);
    expect(table.stdout).to.include(`warning: ${inst.config} has changed since the supervisor`);
    expect((await status(inst.config)).supervisor.pid, 'the running supervisor is left as it is').to.equal(s.supervisor.pid);

    // The advice works: after a reload the fleet runs the file, and a second start says so.
    const reloaded = await botvisor(['reload', '-c', inst.config]);
    expect(reloaded.code, reloaded.stderr).to.equal(0);
    const now = await status(inst.config);
    expect(now.bots.find((b) => b.name === 'second')?.state).to.equal('ready');
    expect(now.supervisor.pid).to.equal(s.supervisor.pid);
    const again = await botvisor(['start', '--detach', '-c', inst.config]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.include('with this config');
  });

  it('logs with no bot: the supervisor and every bot merged by time; --bot (or logs <bot>) keeps one bot with the supervisor lines about it', async () => {
    const inst = installation([{ name: 'main', module: BOT, token: fakeToken() }, { name: 'helper', module: BOT, token: fakeToken() }]);
    await started(inst.config, { FIXTURE_SAY: 'hello from stderr' });
    const all = await botvisor(['logs', '-n', '10000', '-c', inst.config]);
    expect(all.code, all.stderr).to.equal(0);
    const lines = all.stdout.trim().split('\n');
    const procs = new Set(lines.map((l) => /^\S+ \S+ \S+\s+(\S+):/.exec(l)?.[1]));
    for (const p of ['supervisor', 'main', 'main.output', 'helper', 'helper.output']) expect(procs, `lines of ${p}`).to.include(p);
    const times = lines.map((l) => l.slice(0, 20)); // the readable time has whole seconds
    expect(times, 'merged by time').to.deep.equal([...times].sort());
    expect(all.stdout).to.match(/ main\.output: main: hello from stderr {2}stream=stderr$/m);

    const one = await botvisor(['logs', '--bot', 'helper', '-n', '10000', '-c', inst.config]);
    expect(one.code, one.stderr).to.equal(0);
    const oneProcs = new Set(one.stdout.trim().split('\n').map((l) => /^\S+ \S+ \S+\s+(\S+):/.exec(l)?.[1]));
    expect([...oneProcs].sort()).to.deep.equal(['helper', 'helper.output', 'supervisor']);
    expect(one.stdout).to.match(/ supervisor: .*bot=helper/).and.not.match(/bot=main/);
    const positional = await botvisor(['logs', 'helper', '-n', '10000', '-c', inst.config]);
    expect(positional.stdout.split('\n').length, 'logs <bot> is --bot <bot>').to.be.at.least(one.stdout.split('\n').length - 5);
    const three = await botvisor(['logs', '-n', '3', '-c', inst.config]);
    expect(three.stdout.trim().split('\n')).to.have.length(3);
    const ghost = await botvisor(['logs', '--bot', 'ghost', '-c', inst.config]);
    expect(ghost.code).to.equal(2);
  });

  it('describe <bot>: module, config, logs, state history, restarts, last exit with the output tail, lock holder, jobs, problem; --json', async () => {
    const t = fakeToken();
    const inst = installation([
      { name: 'main', module: BOT, token: t, allow: [1001], commands: { up: { argv: ['uptime'] } } },
      { name: 'helper', module: BOT, token: t },
    ]);
    await started(inst.config, { FIXTURE_SAY: 'said at start' });
    expect((await botvisor(['restart', 'main', '-c', inst.config], { FIXTURE_SAY: 'said at start' })).code).to.equal(0);
    const s = await status(inst.config);

    const json = await botvisor(['describe', 'main', '--json', '-c', inst.config]);
    expect(json.code, json.stderr).to.equal(0);
    const d = JSON.parse(json.stdout) as DescribeReport;
    expect(d.config).to.deep.equal({ kind: 'custom', module: BOT, enabled: true, polling: true, token: 'token (in the config file)', commands: { up: { argv: ['uptime'] } }, sessions: [], allow: [1001] });
    expect(d.logs).to.deep.equal({ log: path.join(inst.dir, 'logs', 'main.log'), output: path.join(inst.dir, 'logs', 'main.output.log') });
    expect(d.bot).to.include({ name: 'main', state: 'ready', restarts: 1, pid: s.bots[0]?.pid, problem: null });
    expect(d.bot.lastExit?.at).to.be.a('string');
    expect(d.history.map((h) => `${h.from}→${h.to}`)).to.deep.equal(['stopped→starting', 'starting→ready', 'ready→stopping', 'stopping→stopped', 'stopped→starting', 'starting→ready']);
    expect(d.history[0]?.reason).to.equal('supervisor start');
    expect(d.lock).to.include({ bot: 'main', held: true, state: 'held' });
    expect(d.lock?.owner?.pid).to.equal(s.supervisor.pid);
    expect(d.outputTail.map((o) => [o.stream, o.line])).to.deep.include.members([['stderr', 'main: said at start']]);
    expect(d.outputTail.filter((o) => o.line === 'main: said at start'), 'one line per run').to.have.length(2);

    const human = await botvisor(['describe', 'main', '-c', inst.config]);
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout)
      .to.include('bot main\n')
      .and.match(/^ {2}state\s+ready$/m)
      .and.match(/^ {2}restarts\s+1$/m)
      .and.match(new RegExp(`^ {2}module\\s+${BOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'))
      .and.match(/^ {2}commands\s+\/up → uptime$/m)
      .and.match(new RegExp(`^ {2}lock\\s+token [0-9a-f]{16} held, held by supervisor pid ${s.supervisor.pid} since `, 'm'))
      .and.match(/^ {2}last exit\s+/m)
      .and.match(/^ {2}jobs\s+0 running$/m)
      .and.match(/^ {2}problem\s+none$/m)
      .and.match(/state history \(oldest first\):\n {2}\S+ {2}stopped → starting {2}supervisor start\n/)
      .and.match(/^ {2}\S+ stderr main: said at start$/m);
    const helper = await botvisor(['describe', 'helper', '-c', inst.config]);
    expect(helper.stdout).to.match(/^ {2}lock\s+none \(send-only: it never polls\)$/m);
    expect((await botvisor(['describe', 'ghost', '-c', inst.config])).code).to.equal(2);
  });
});
