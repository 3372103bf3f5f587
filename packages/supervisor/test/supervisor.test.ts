import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, descendants, isAlive, type Logger, loadConfig, refOf } from '@botvisor/core';
import { useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { AlreadyRunningError, type BotDescription, STATE_HISTORY_LENGTH, Supervisor } from '../src/index.js';
import { fixtureBot, install, newToken } from './support/installation.js';

const USER = { id: 1001, first_name: 'Ada' };
const FAST = { pingIntervalMs: 500, hungAfterMs: 3000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 100, stopGraceMs: 3000 };

describe('supervisor (in-process, real forked bots against the simulator)', function () {
  this.timeout(120_000);
  const bed = useTestbed();
  let logger: Logger;

  async function startSupervisor(configFile: string, env?: NodeJS.ProcessEnv): Promise<Supervisor> {
    const config = loadConfig(configFile);
    logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never', level: 'debug' });
    const sup = await Supervisor.start({ config, configFile, logger, ...(env !== undefined ? { env } : {}) });
    bed.onCleanup(() => sup.stop());
    return sup;
  }


  it('kill -9 of the main bot 20 times: 20 restarts, ready each time, never two pollers at once', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST);
    const sup = await startSupervisor(inst.configFile);
    await sup.waitReady(20_000);
    const main = sup.bots.get('main');
    for (let i = 1; i <= 20; i++) {
      const pid = main?.pid as number;
      process.kill(pid, 'SIGKILL');
      await waitFor(() => main?.state === 'ready' && main.pid !== pid, { timeoutMs: 20_000, what: `restart #${i} to be ready` });
    }
    expect(main?.restarts).to.equal(20);
    const stats = await bed.sim.client.stats(token);
    expect(stats.maxPendingPollers).to.equal(1);
    expect(stats.conflicts).to.equal(0);
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'echo', args: 'alive' });
    expect((await bed.sim.client.waitForMessage(token, USER.id, { after: cursor })).text).to.equal('echo: alive');
  });

  it('a bot that crashes right after ready ends errored once the crash budget is spent, with growing gaps between starts (the first restart immediate)', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('crashy', token)], { ...FAST, backoffInitialMs: 500, backoffMaxMs: 5000, crashBudget: 5 });
    const sup = await startSupervisor(inst.configFile, { ...process.env, FIXTURE_EXIT_AFTER_READY: '1' });
    const bot = sup.bots.get('crashy');
    await waitFor(() => bot?.state === 'errored', { timeoutMs: 30_000, what: 'the crash-looping bot to be errored' });
    const starts = sup.events.recent().filter((e) => e.bot === 'crashy' && (e.kind === 'started' || e.kind === 'restarted')).map((e) => Date.parse(e.at));
    expect(starts).to.have.length(6);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i], `gaps ${gaps.join(', ')}`).to.be.above(gaps[i - 1] as number);
    const errored = sup.events.recent().find((e) => e.kind === 'errored');
    expect(errored?.message).to.match(/crashy errored: 6 crashes within 5 min; tried again in 5 min, or now with 'botvisor restart crashy'/);
    // Nothing more happens: no restart while errored.
    await new Promise((r) => setTimeout(r, 1000));
    expect(bot?.restarts).to.equal(5);
  });

  it('a bot that exits before ready three times in a row is errored at once, not after the crash budget, with why as its problem', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('early', token)], { ...FAST, crashBudget: 100 });
    const sup = await startSupervisor(inst.configFile, { ...process.env, FIXTURE_EXIT_AT_START: '1' });
    const bot = sup.bots.get('early');
    await waitFor(() => bot?.state === 'errored', { timeoutMs: 20_000, what: 'the bot to be errored after three failed starts' });
    expect(bot?.restarts, 'three starts: the first and two restarts').to.equal(2);
    expect(bot?.status().problem).to.equal("start-up failed (exit code 3) and the bot said nothing on stderr (3 failed starts in a row); fix it, then run 'botvisor restart early' (it is also tried again every 5 min)");
    // A person's restart forgets the count: three more tries, and errored again.
    await bot?.restart('test').catch(() => undefined);
    await waitFor(() => bot?.state === 'errored' && bot.restarts === 5, { timeoutMs: 20_000, what: 'three more starts after the restart, then errored' });
  });

  it('a person\'s stop-bot holds a crash-looping bot stopped (no crash restart, left out of restart all), start-bot starts it; describe keeps the last 20 state changes', async () => {
    const inst = install(bed.temp, bed.sim, [fixtureBot('loop', newToken()), fixtureBot('calm', newToken())], FAST);
    const sup = await startSupervisor(inst.configFile, { ...process.env, FIXTURE_EXIT_AFTER_READY: '1' });
    const loop = sup.bots.get('loop');
    const calm = sup.bots.get('calm');
    // Both crash right after ready: enough changes to overflow the history.
    await waitFor(() => (loop?.restarts ?? 0) >= 8, { timeoutMs: 30_000, what: 'eight restarts of the crash loop' });
    await sup.handleControl({ v: 1, id: 1, cmd: 'stop-bot', bot: 'loop' }, undefined);
    expect(loop?.state).to.equal('stopped');
    const restarts = loop?.restarts;
    await waitFor(() => (calm?.restarts ?? 0) >= (restarts ?? 0) + 3, { timeoutMs: 30_000, what: 'the other bot to go on crashing and restarting' });
    expect(loop?.state, 'no crash restart of a stopped bot').to.equal('stopped');
    expect(loop?.restarts).to.equal(restarts);
    await sup.restart('all').catch(() => undefined); // calm may not be ready at the moment: not this test's point
    expect(loop?.state, 'restart all leaves it stopped').to.equal('stopped');
    const d = (await sup.handleControl({ v: 1, id: 2, cmd: 'describe', bot: 'loop' }, undefined)) as BotDescription;
    expect(d.bot).to.include({ state: 'stopped', stoppedByPerson: true });
    expect(d.history).to.have.length(STATE_HISTORY_LENGTH);
    expect(d.history.at(-1)?.to).to.equal('stopped');
    // From backoff it is one change; from a run, stopping (with the person's reason) and then the exit.
    expect(d.history.slice(-2).map((h) => h.reason)).to.include('stopped by a person');
    expect(Date.parse(d.history[0]?.at ?? '')).to.be.below(Date.parse(d.history.at(-1)?.at ?? ''));
    await sup.handleControl({ v: 1, id: 3, cmd: 'start-bot', bot: 'loop' }, undefined);
    expect((await sup.status()).bots.find((b) => b.name === 'loop')?.stoppedByPerson).to.equal(false);
    await waitFor(() => (loop?.restarts ?? 0) > (restarts ?? 0), { timeoutMs: 20_000, what: 'the started bot to run (and crash) again' });
  });

  it('finds a bot that busy-loops in a handler hung and restarts it (default watchdog: 20 s without a pong, pings every 5 s)', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], { backoffInitialMs: 50, stopGraceMs: 1000 });
    const sup = await startSupervisor(inst.configFile);
    await sup.waitReady(20_000);
    const bot = sup.bots.get('main');
    const pid = bot?.pid as number;
    const started = Date.now();
    bed.sim.users.sendCommand(token, { user: USER, command: 'spin' });
    // Detection takes 20–25 s by design; the kill, the sweep and a new start add a few seconds more on a
    // loaded machine, so the bound is generous: the behaviour is asserted, not the wall-clock time.
    await waitFor(() => bot?.state === 'ready' && bot.pid !== pid, { timeoutMs: 50_000, intervalMs: 200, what: 'the hung bot to be restarted and ready' });
    expect(Date.now() - started).to.be.below(45_000);
    expect(bot?.status().lastExit?.cause).to.equal('hung');
    expect(bot?.restarts).to.equal(1);
    const hung = sup.events.recent().find((e) => e.kind === 'hung');
    expect(hung?.data).to.have.property('lastEventLoopDelayMs');
  });

  it('kills a bot\'s CLI children when the bot crashes, before starting it again', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST);
    const sup = await startSupervisor(inst.configFile);
    await sup.waitReady(20_000);
    const bot = sup.bots.get('main');
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'job' });
    const reply = await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: '^job pid' });
    const jobPid = Number(reply.text?.split(' ')[2]);
    const jobRef = refOf(jobPid);
    expect(jobRef).to.not.equal(undefined);
    process.kill(bot?.pid as number, 'SIGKILL');
    await waitFor(() => !isAlive(jobRef as NonNullable<typeof jobRef>), { timeoutMs: 10_000, what: 'the orphaned CLI job to be killed' });
    await waitFor(() => bot?.state === 'ready', { timeoutMs: 20_000, what: 'the bot to be back' });
  });

  it('shows the bots, their children and the locks in status', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token), fixtureBot('helper', token)], { ...FAST, scanIntervalMs: 200 });
    const sup = await startSupervisor(inst.configFile);
    await sup.waitReady(20_000);
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'job' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: '^job pid' });
    const status = await waitFor(async () => {
      const s = await sup.status();
      return s.bots.find((b) => b.name === 'main')?.children.some((c) => c.command === 'sleep') ? s : undefined;
    }, { what: 'the job to show up as a child of main' });
    const main = status.bots.find((b) => b.name === 'main');
    const helper = status.bots.find((b) => b.name === 'helper');
    expect(main).to.include({ state: 'ready', polling: true, restarts: 0 });
    expect(helper).to.include({ state: 'ready', polling: false });
    expect(main?.memoryBytes).to.be.above(10_000_000);
    expect(status.supervisor.locks).to.have.length(1);
    expect(status.supervisor.locks[0]).to.deep.include({ bot: 'main' });
    expect(status.supervisor.locks[0]?.owner).to.include({ pid: process.pid, role: 'supervisor' });
    expect((await bed.sim.client.stats(token)).maxPendingPollers).to.equal(1);
  });

  it('exports the bots\' own counters on /metrics: updates, handler durations, Bot API errors', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST);
    const sup = await startSupervisor(inst.configFile);
    await sup.waitReady(20_000);
    for (const word of ['one', 'two']) {
      const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'echo', args: word });
      await bed.sim.client.waitForMessage(token, USER.id, { after: cursor });
    }
    await bed.sim.client.addFault({ token, method: 'getUpdates', times: 1, fail: { error_code: 502, description: 'Bad Gateway' } });
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${sup.http?.url}/metrics`)).text();
      return /^botvisor_updates_total\{bot="main"\} 2$/m.test(text) && /^botvisor_telegram_errors_total\{bot="main",code="502"\} 1$/m.test(text) ? text : undefined;
    }, { timeoutMs: 15_000, what: 'two updates and one 502 in /metrics' });
    expect(metrics).to.match(/^botvisor_handler_seconds_count\{bot="main"\} 2$/m);
    expect(metrics).to.match(/^botvisor_handler_seconds_bucket\{bot="main",le="\+Inf"\} 2$/m);
    expect(metrics).to.match(/^botvisor_event_loop_delay_seconds\{bot="main"\} [0-9.e-]+$/m);
    expect(metrics).to.match(/^botvisor_jobs_queued\{bot="main"\} 0$/m);
  });

  it('refuses a second supervisor on the same data dir, naming the first', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST);
    await startSupervisor(inst.configFile);
    const config = loadConfig(inst.configFile);
    const err = await Supervisor.start({ config, configFile: inst.configFile, logger }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AlreadyRunningError);
    expect((err as Error).message).to.match(new RegExp(`^botvisor is already running \\(pid ${process.pid}, since \\d{4}-`));
  });

  it('does not kill a registry entry whose PID now belongs to an unrelated process', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST);
    const unrelated = bed.tracker.spawn('sleep', ['60']);
    const real = refOf(unrelated.pid as number);
    mkdirSync(path.join(inst.dataDir, 'supervisor'), { recursive: true });
    writeFileSync(
      path.join(inst.dataDir, 'supervisor', 'registry.json'),
      JSON.stringify({
        runId: 'old',
        supervisor: null,
        bots: { main: { cookie: 'old-run.main', process: { pid: real?.pid, startTime: (real?.startTime ?? 0) - 3_600_000, command: 'node' }, children: [] } },
      }),
    );
    const sup = await startSupervisor(inst.configFile);
    await sup.waitReady(20_000);
    expect(isAlive(real as NonNullable<typeof real>)).to.equal(true);
    expect(sup.events.recent().some((e) => e.kind === 'orphans-reaped')).to.equal(false);
  });

  it('stop() stops every bot, releases the locks and leaves no process', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token), fixtureBot('helper', token)], FAST);
    const sup = await startSupervisor(inst.configFile);
    await sup.waitReady(20_000);
    await sup.stop();
    expect([...sup.bots.values()].map((b) => b.state)).to.deep.equal(['stopped', 'stopped']);
    const left = readdirSync(inst.locksDir).filter((f) => f.endsWith('.lock'));
    expect(left).to.deep.equal([]);
    expect(existsSync(path.join(inst.dataDir, 'supervisor', 'supervisor.lock'))).to.equal(false);
    expect(descendants(process.pid).filter((p) => p.state !== 'Z' && p.command === 'node')).to.deep.equal([]);
  });
});
