import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, isAlive, loadConfig, type ProcessRef, refOf } from '@botvisor/core';
import { readStoredInbox } from '@botvisor/runtime';
import { exited, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { controlRequest, controlSocketPath, type ManagedBot, type StatusReport, Supervisor } from '../src/index.js';
import { DAEMON, fixtureBot, type Installation, install, newToken } from './support/installation.js';
import { watchPollGaps } from './support/poll-gaps.js';

const CLI = fileURLToPath(new URL('../../../cli/dist/src/bin/botvisor.js', import.meta.url));
const RELOAD_BOT = fileURLToPath(new URL('./fixtures/reload-bot.js', import.meta.url));
const FAST = { pingIntervalMs: 500, hungAfterMs: 5000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 100, stopGraceMs: 4000, startTimeoutMs: 15_000 };

describe('botvisor reload: a changed config and new code without losing, repeating or overlapping an update', function () {
  this.timeout(240_000);
  const bed = useTestbed();

  /** A module file of its own for bot `name`, re-exporting the fixture: edit it to change the bot's code. */
  function moduleFile(inst: Installation, name: string, body = `export { default } from ${JSON.stringify(RELOAD_BOT)};\n`): string {
    const file = path.join(inst.dir, `${name}.mjs`);
    writeFileSync(file, body);
    return file;
  }

  function writeBots(inst: Installation, bots: object[]): void {
    const json = JSON.parse(readFileSync(inst.configFile, 'utf8')) as { bots: object[] };
    json.bots = bots;
    writeFileSync(inst.configFile, JSON.stringify(json, null, 2));
  }

  async function start(inst: Installation): Promise<Supervisor> {
    const config = loadConfig(inst.configFile);
    const logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never', level: 'debug' });
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger, http: false });
    bed.onCleanup(() => sup.stop());
    await sup.waitReady(30_000);
    return sup;
  }

  async function answers(token: string, user: number, text: string): Promise<void> {
    const { cursor } = bed.sim.users.sendMessage(token, { text, user: { id: user, first_name: 'U' } });
    expect((await bed.sim.client.waitForMessage(token, user, { after: cursor, timeoutMs: 20_000 })).text).to.equal(`got ${text}`);
  }

  it('applies added, removed and changed bots and leaves an untouched one running', async () => {
    const [a, b, d] = [newToken(), newToken(), newToken()];
    const inst = install(bed.temp, bed.sim, [], FAST);
    const modA = moduleFile(inst, 'a');
    const modD = moduleFile(inst, 'd');
    writeBots(inst, [fixtureBot('a', a, { module: modA }), fixtureBot('b', b, { module: moduleFile(inst, 'b') }), fixtureBot('d', d, { module: modD })]);
    const sup = await start(inst);
    const pid = (name: string): number | undefined => sup.bots.get(name)?.pid;
    const [pidA, pidD] = [pid('a'), pid('d')];

    const c = newToken();
    writeBots(inst, [fixtureBot('a', a, { module: modA, admins: [7] }), fixtureBot('c', c, { module: moduleFile(inst, 'c') }), fixtureBot('d', d, { module: modD })]);
    const result = await sup.reload('all');
    expect(result).to.deep.include({ added: ['c'], removed: ['b'], replaced: ['a'], kept: ['d'], failed: [] });
    expect([...sup.bots.keys()].sort()).to.deep.equal(['a', 'c', 'd']);
    expect(pid('a')).to.be.a('number').and.not.equal(pidA);
    expect(pid('d')).to.equal(pidD);
    expect((await bed.sim.client.stats(b)).pendingPollers).to.equal(0);
    await answers(a, 11, 'after the reload');
    await answers(c, 12, 'the added bot');
    await answers(d, 13, 'the untouched bot');

    // New code, same config: only the bot whose module changed is replaced.
    writeFileSync(modD, `${readFileSync(modD, 'utf8')}// v2\n`);
    const second = await sup.reload('all');
    expect(second).to.deep.include({ replaced: ['d'], failed: [] });
    expect(second.kept.sort()).to.deep.equal(['a', 'c']);
    expect(pid('d')).to.not.equal(pidD);
    await answers(d, 13, 'new code');
    expect(sup.events.recent().some((e) => e.kind === 'reloaded' && e.bot === 'd')).to.equal(true);

    // A config that cannot be used changes nothing.
    const pids = [...sup.bots.values()].map((x) => x.pid);
    writeBots(inst, [{ name: 'a', module: modA }]);
    const err = await sup.reload('all').catch((e: unknown) => e as Error);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.include('bots[0]');
    expect([...sup.bots.values()].map((x) => x.pid)).to.deep.equal(pids);
  });

  it('SIGHUP to the daemon reloads; `botvisor reload` exits 1 with the rollback sentence', async () => {
    const [a, b] = [newToken(), newToken()];
    const inst = install(bed.temp, bed.sim, [], FAST);
    const modA = moduleFile(inst, 'a');
    writeBots(inst, [fixtureBot('a', a, { module: modA })]);
    const daemon = bed.tracker.spawn(process.execPath, [DAEMON, '--config', inst.configFile], { stdio: 'ignore' });
    const status = (): Promise<StatusReport> => controlRequest<StatusReport>(controlSocketPath(inst.dataDir), { cmd: 'status' });
    await waitFor(async () => (await status().catch(() => undefined))?.bots.every((x) => x.state === 'ready') === true, { timeoutMs: 30_000, what: 'the daemon to be ready' });

    writeBots(inst, [fixtureBot('a', a, { module: modA }), fixtureBot('b', b, { module: moduleFile(inst, 'b') })]);
    daemon.kill('SIGHUP');
    await waitFor(async () => (await status()).bots.find((x) => x.name === 'b')?.state === 'ready', { timeoutMs: 30_000, what: 'the bot added by SIGHUP' });
    await answers(b, 41, 'added by SIGHUP');

    writeFileSync(modA, "throw new Error('broken on purpose');\n");
    const cli = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'reload', 'a', '-c', inst.configFile], (err, stdout) => resolve({ code: err === null ? 0 : Number(err.code), stdout }));
    });
    expect(cli.code).to.equal(1);
    expect(cli.stdout).to.match(/^reload of a failed: the reload of a was rolled back: .*broken on purpose.*; the old process \(pid \d+\) keeps running$/m);
    await answers(a, 42, 'the old code still answers');
    daemon.kill('SIGTERM');
    expect(await exited(daemon)).to.equal(0);
  });

  it('rolls back a broken new module: the old process keeps polling, the error is the reason and an event', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [], FAST);
    const mod = moduleFile(inst, 'main');
    writeBots(inst, [fixtureBot('main', token, { module: mod })]);
    const sup = await start(inst);
    const bot = sup.bots.get('main') as ManagedBot;
    const before = bot.pid;

    writeFileSync(mod, "throw new Error('broken on purpose');\n");
    const result = await sup.reload('main');
    expect(result.replaced).to.deep.equal([]);
    expect(result.failed).to.have.length(1);
    expect(result.failed[0]?.why).to.match(/^the reload of main was rolled back: .*broken on purpose.*; the old process \(pid \d+\) keeps running$/);
    expect(bot.pid).to.equal(before);
    expect(bot.state).to.equal('ready');
    await answers(token, 21, 'still the old code');
    const failed = sup.events.recent().filter((e) => e.kind === 'reload-failed');
    expect(failed.map((e) => e.message).join('\n')).to.include('broken on purpose');

    // Fixed: the next reload of all sees the changed code and hands over.
    moduleFile(inst, 'main', `export { default } from ${JSON.stringify(RELOAD_BOT)};\n// fixed\n`);
    expect(await sup.reload('all')).to.deep.include({ replaced: ['main'], failed: [] });
    expect(bot.pid).to.not.equal(before);
    await answers(token, 21, 'the fixed code');
  });

  it('a stop during the hand-over wins: the new process is not started', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [], FAST);
    writeBots(inst, [fixtureBot('main', token, { module: moduleFile(inst, 'main') })]);
    const sup = await start(inst);
    const bot = sup.bots.get('main') as ManagedBot;
    let stopped: Promise<void> | undefined;
    bot.onStateChange((c) => {
      if (c.to === 'stopping') stopped ??= bot.stop('a person stopped it');
    });
    const result = await sup.reload('main');
    await stopped;
    expect(result.failed.map((f) => f.why)).to.deep.equal(['the reload of main was abandoned: the bot was stopped during the hand-over']);
    expect(bot.state).to.equal('stopped');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bot.pid).to.equal(undefined);
    expect((await bed.sim.client.stats(token)).pendingPollers).to.equal(0);
  });

  it('a bot with a running job keeps its old process until the job ends, then hands over; a changed command does not wait', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [], FAST);
    const nap = { argv: ['sleep', '{secs}'], args: { secs: '^[0-9]+$' } };
    const entry = (commands: object): object => fixtureBot('main', token, { module: moduleFile(inst, 'main'), commands, allow: 'anyone' });
    writeBots(inst, [entry({ nap })]);
    const sup = await start(inst);
    const bot = sup.bots.get('main') as ManagedBot;
    const before = bot.pid;
    bed.sim.users.sendMessage(token, { text: '/nap 4', user: { id: 31, first_name: 'U' } });
    await waitFor(() => bot.status().runningJobs === 1, { timeoutMs: 15_000, intervalMs: 100, what: 'the job to run' });
    const jobStarted = Date.now();

    const result = await sup.reload('main');
    expect(result).to.deep.include({ deferred: [{ bot: 'main', jobs: 1 }], replaced: [], failed: [] });
    expect(bot.pid).to.equal(before);
    await answers(token, 32, 'the old process still answers');
    await waitFor(() => bot.pid !== before && bot.state === 'ready', { timeoutMs: 30_000, intervalMs: 100, what: 'the deferred hand-over' });
    expect(Date.now() - jobStarted).to.be.greaterThan(3000); // not before the 4 s job ended
    expect(sup.events.recent().some((e) => e.kind === 'reloaded' && e.message.startsWith('deferred reload of main'))).to.equal(true);
    await answers(token, 32, 'the new process answers');

    // A changed command: its running job is not waited for.
    const second = bot.pid;
    bed.sim.users.sendMessage(token, { text: '/nap 30', user: { id: 31, first_name: 'U' } });
    await waitFor(() => bot.status().runningJobs === 1, { timeoutMs: 15_000, intervalMs: 100, what: 'the second job to run' });
    writeBots(inst, [entry({ nap: { ...nap, timeoutSec: 60 } })]);
    expect(await sup.reload('all')).to.deep.include({ deferred: [], replaced: ['main'], failed: [] });
    expect(bot.pid).to.not.equal(second);
  });

  it('20 reloads while 50 updates/s arrive across 20 chats: none lost, none repeated, one poller at a time, per-chat order kept', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [], FAST);
    writeBots(inst, [fixtureBot('main', token, { module: moduleFile(inst, 'main') })]);
    const sup = await start(inst);
    await bed.sim.client.resetStats(token);
    const CHATS = 20;
    const RELOADS = 20;
    const sent = new Map<number, string[]>();
    let n = 0;
    const sender = setInterval(() => {
      const user = 100 + (n % CHATS);
      const text = `m${n++}`;
      bed.sim.users.sendMessage(token, { text, user: { id: user, first_name: 'U' } });
      sent.set(user, [...(sent.get(user) ?? []), text]);
    }, 20);
    bed.onCleanup(() => clearInterval(sender));
    const pids = new Set<number | undefined>([sup.bots.get('main')?.pid]);
    // The poll gap of each hand-over: the longest time with no getUpdates open at the sim while it runs.
    const watch = watchPollGaps(bed.sim, token);
    const gaps: number[] = [];
    try {
      for (let i = 0; i < RELOADS; i++) {
        const from = performance.now();
        const r = await sup.reload('main');
        expect(r.failed, `reload ${i}`).to.deep.equal([]);
        pids.add(sup.bots.get('main')?.pid);
        await new Promise((resolve) => setTimeout(resolve, 200));
        gaps.push(watch.longestGap(from, performance.now()));
      }
    } finally {
      clearInterval(sender);
    }
    expect(pids.size).to.equal(RELOADS + 1);
    gaps.sort((x, y) => x - y);
    console.log(`      poll gap per hand-over, ms: median ${Math.round(gaps[Math.floor(gaps.length / 2)] ?? 0)}, max ${Math.round(gaps.at(-1) ?? 0)}`);
    expect(gaps).to.have.length(RELOADS);
    const total = n;
    const replies = async (user: number): Promise<string[]> =>
      (await bed.sim.client.transcript(token, user)).entries.filter((e) => e.kind === 'sent').map((e) => String(e.text));
    await waitFor(
      async () => {
        let count = 0;
        for (const user of sent.keys()) count += (await replies(user)).length;
        return count >= total;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `replies to all ${total} messages` },
    );
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a duplicate would arrive now
    for (const [user, texts] of sent) {
      expect(await replies(user), `chat ${user}`).to.deep.equal(texts.map((t) => `got ${t}`));
    }
    const stats = await bed.sim.client.stats(token);
    expect(stats.maxPendingPollers).to.equal(1);
    expect(stats.conflicts).to.equal(0);
  });

  it('a long handler in flight at the hand-over finishes in the old process while the new one polls; its settle reaches the inbox, nothing is redelivered', async () => {
    const token = newToken();
    // The handler (3 s) fits well in the bot's grace and the supervisor's.
    process.env.RELOAD_BOT_GRACE_MS = '10000';
    bed.onCleanup(() => void delete process.env.RELOAD_BOT_GRACE_MS);
    const inst = install(bed.temp, bed.sim, [], { ...FAST, stopGraceMs: 12_000 });
    writeBots(inst, [fixtureBot('main', token, { module: moduleFile(inst, 'main') })]);
    const sup = await start(inst);
    const bot = sup.bots.get('main') as ManagedBot;
    const oldPid = bot.pid;
    const texts = async (user: number): Promise<string[]> => (await bed.sim.client.transcript(token, user)).entries.filter((e) => e.kind === 'sent').map((e) => String(e.text));
    bed.sim.users.sendMessage(token, { text: 'slow:3000 long', user: { id: 51, first_name: 'U' } });
    await waitFor(async () => (await texts(51)).includes('started slow:3000 long'), { timeoutMs: 15_000, intervalMs: 50, what: 'the long handler to start' });

    const reloaded = sup.reload('main');
    await waitFor(() => bot.pid !== oldPid && bot.pid !== undefined, { timeoutMs: 15_000, intervalMs: 20, what: 'the hand-over to the new process' });
    // The new process polls while the old one's handler still runs: another chat's update is fetched.
    const delivered = (await bed.sim.client.stats(token)).updatesDelivered;
    bed.sim.users.sendMessage(token, { text: 'meanwhile', user: { id: 52, first_name: 'U' } });
    await waitFor(async () => (await bed.sim.client.stats(token)).updatesDelivered > delivered, { timeoutMs: 5000, intervalMs: 20, what: 'the new process to fetch an update' });
    expect(await texts(51), 'the long handler is still running in the old process').to.not.include('got slow:3000 long');
    // Between storing that batch and asking again there is a moment with no poll open: wait for the next one.
    await waitFor(async () => (await bed.sim.client.stats(token)).pendingPollers === 1, { timeoutMs: 5000, intervalMs: 20, what: 'the new process to poll again' });

    expect(await reloaded).to.deep.include({ replaced: ['main'], failed: [] });
    await waitFor(async () => (await texts(52)).length === 1, { timeoutMs: 15_000, intervalMs: 50, what: 'the other chat to be answered' });
    await answers(token, 53, 'after');
    expect(await texts(51)).to.deep.equal(['started slow:3000 long', 'got slow:3000 long']);
    expect(await texts(52)).to.deep.equal(['got meanwhile']);
    // Snapshot and journal, as the bot reads them: a settle is a journal line until the next compaction.
    const botDir = path.join(inst.dataDir, 'bots', 'main');
    const inbox = readStoredInbox(botDir);
    await waitFor(() => readStoredInbox(botDir).pending.length === 0, {
      timeoutMs: 5000,
      intervalMs: 50,
      what: `the inbox to be empty (it had ${inbox.pending.length})`,
    });
    const stats = await bed.sim.client.stats(token);
    expect(stats.maxPendingPollers).to.equal(1);
    expect(stats.conflicts).to.equal(0);
    // A settle is a journal record; a clean stop folds the journal into inbox.json, which then has nothing pending.
    await sup.stop();
    expect((JSON.parse(readFileSync(path.join(inst.dataDir, 'bots', 'main', 'inbox.json'), 'utf8')) as { pending: unknown[] }).pending).to.deep.equal([]);
  });

  it('an old process killed -9 with a held update: the new process hands it out marked redelivered', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [], FAST);
    writeBots(inst, [fixtureBot('main', token, { module: moduleFile(inst, 'main') })]);
    const sup = await start(inst);
    const bot = sup.bots.get('main') as ManagedBot;
    const oldPid = bot.pid as number;
    const texts = async (user: number): Promise<string[]> => (await bed.sim.client.transcript(token, user)).entries.filter((e) => e.kind === 'sent').map((e) => String(e.text));
    bed.sim.users.sendMessage(token, { text: 'slow:3000 doomed', user: { id: 61, first_name: 'U' } });
    await waitFor(async () => (await texts(61)).includes('started slow:3000 doomed'), { timeoutMs: 15_000, intervalMs: 50, what: 'the long handler to start' });

    const reloaded = sup.reload('main');
    await waitFor(() => bot.pid !== oldPid && bot.pid !== undefined, { timeoutMs: 15_000, intervalMs: 20, what: 'the hand-over to the new process' });
    // The same chat's next message waits behind the held update.
    bed.sim.users.sendMessage(token, { text: 'next', user: { id: 61, first_name: 'U' } });
    process.kill(oldPid, 'SIGKILL');
    expect(await reloaded).to.deep.include({ replaced: ['main'], failed: [] });
    await waitFor(async () => (await texts(61)).length >= 4, { timeoutMs: 20_000, intervalMs: 50, what: 'the redelivered update and the next one to be answered' });
    expect(await texts(61)).to.deep.equal(['started slow:3000 doomed', 'started again slow:3000 doomed', 'got again slow:3000 doomed', 'got next']);
    expect((await bed.sim.client.stats(token)).maxPendingPollers).to.equal(1);
  });

  it('a supervisor killed -9 while the old process of a hand-over drains: the next start reaps it and its CLI job, and the bot starts', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [], { ...FAST, stopGraceMs: 60_000 });
    const nap = { argv: ['sleep', '{secs}'], args: { secs: '^[0-9]+$' } };
    const entry = (commands: object): object => fixtureBot('main', token, { module: moduleFile(inst, 'main'), commands, allow: 'anyone' });
    writeBots(inst, [entry({ nap })]);
    // The old process's drain outlives the supervisor: its handler takes a minute, and so does its grace.
    const env = { ...process.env, RELOAD_BOT_GRACE_MS: '60000' };
    const socket = controlSocketPath(inst.dataDir);
    const status = async (): Promise<StatusReport | undefined> => controlRequest<StatusReport>(socket, { cmd: 'status' }).catch(() => undefined);
    const main = async () => (await status())?.bots.find((b) => b.name === 'main');
    const first = bed.tracker.spawn(process.execPath, [DAEMON, '--config', inst.configFile], { stdio: 'ignore', env });
    await waitFor(async () => (await main())?.state === 'ready', { timeoutMs: 30_000, what: 'the first daemon to be ready' });
    const texts = async (user: number): Promise<string[]> => (await bed.sim.client.transcript(token, user)).entries.filter((e) => e.kind === 'sent').map((e) => String(e.text));

    bed.sim.users.sendMessage(token, { text: '/nap 120', user: { id: 81, first_name: 'U' } });
    const job = await waitFor(async () => (await main())?.children.find((c) => c.command === 'sleep'), { timeoutMs: 15_000, intervalMs: 100, what: 'the job to run' });
    const jobRef = refOf(job.pid) as ProcessRef;
    bed.sim.users.sendMessage(token, { text: 'slow:120000 long', user: { id: 82, first_name: 'U' } });
    await waitFor(async () => (await texts(82)).includes('started slow:120000 long'), { timeoutMs: 15_000, intervalMs: 50, what: 'the long handler to start' });
    const oldRef = refOf((await main())?.pid as number) as ProcessRef;

    // A changed command: the hand-over does not wait for the job, and the old process drains its handler.
    writeBots(inst, [entry({ nap: { ...nap, timeoutSec: 300 } })]);
    void controlRequest(socket, { cmd: 'reload', bot: 'main' }, 120_000).catch(() => undefined);
    await waitFor(async () => {
      const now = await main();
      return now?.pid !== undefined && now.pid !== null && now.pid !== oldRef.pid;
    }, { timeoutMs: 15_000, intervalMs: 50, what: 'the hand-over to the new process' });
    // The registry reaches the disk a moment after the switch (a store update, flushed on its own).
    const otherRuns = (): number[] | undefined =>
      (JSON.parse(readFileSync(path.join(inst.dataDir, 'supervisor', 'registry.json'), 'utf8')) as { bots: Record<string, { otherRuns: Array<{ process: { pid: number } }> }> }).bots.main?.otherRuns.map((r) => r.process.pid);
    await waitFor(() => otherRuns()?.includes(oldRef.pid), { timeoutMs: 5000, intervalMs: 20, what: 'the draining old process to be written to the registry' }).catch(() => undefined);
    expect(otherRuns(), 'the draining old process is in the registry').to.deep.equal([oldRef.pid]);

    first.kill('SIGKILL');
    await exited(first);
    expect(isAlive(oldRef), 'the old process drains on without its supervisor').to.equal(true);
    expect(isAlive(jobRef)).to.equal(true);

    // The long update is handed out again (redelivered) by the next run: a short grace there, so the test's stop is quick.
    const second = bed.tracker.spawn(process.execPath, [DAEMON, '--config', inst.configFile], { stdio: 'ignore' });
    await waitFor(async () => (await main())?.state === 'ready', { timeoutMs: 30_000, what: 'the second daemon\'s bot to be ready' });
    expect(isAlive(oldRef), 'the old process of the hand-over is reaped').to.equal(false);
    expect(isAlive(jobRef), 'its CLI job is reaped').to.equal(false);
    await answers(token, 83, 'after the second start');
    second.kill('SIGTERM');
    expect(await exited(second)).to.equal(0);
  });

  it('a restart by hand-over (the dashboard, a bot\'s own request): a ready bot hands over and keeps its old process if the new one does not load; a stopped bot simply starts', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [], FAST);
    const mod = moduleFile(inst, 'main');
    writeBots(inst, [fixtureBot('main', token, { module: mod })]);
    const sup = await start(inst);
    const bot = sup.bots.get('main') as ManagedBot;
    const watch = watchPollGaps(bed.sim, token);
    const first = bot.pid;
    const from = performance.now();
    await bot.restartByHandOver('restart requested for main');
    await waitFor(() => bot.state === 'ready', { timeoutMs: 15_000, what: 'the new process to be ready' });
    expect(bot.pid).to.not.equal(first);
    expect(watch.longestGap(from, performance.now()), 'the poll gap of a restart by hand-over, ms').to.be.below(2000);
    expect(sup.events.recent().some((e) => e.kind === 'reloaded' && e.message.includes('restart requested for main'))).to.equal(true);
    // What the alerts bot words as a requested restart without a pause in polling.
    expect(sup.events.recent().findLast((e) => e.kind === 'restarted')?.data).to.include({ cause: 'manual', handOver: true });
    await answers(token, 71, 'after the restart');
    // The bot's own request (the bridge's /restart): a hand-over too, cause restart-request, no exit 42.
    const own = bot.pid;
    await answers(token, 72, 'restart me');
    await waitFor(() => bot.pid !== own && bot.state === 'ready', { timeoutMs: 15_000, what: 'the hand-over the bot asked for' });
    expect(sup.events.recent().findLast((e) => e.kind === 'restarted')?.data).to.include({ cause: 'restart-request', handOver: true });
    expect(bot.status().lastExit, 'no exit 42: the old process was handed over, not restarted').to.equal(null);

    const second = bot.pid;
    writeFileSync(mod, "throw new Error('broken on purpose');\n");
    const err = await bot.restartByHandOver('restart requested for main').catch((e: unknown) => e as Error);
    expect((err as Error).message).to.match(/rolled back: .*broken on purpose.*; the old process \(pid \d+\) keeps running$/);
    expect(bot.pid).to.equal(second);
    await answers(token, 71, 'still the old process');

    moduleFile(inst, 'main');
    await bot.stop('a person stopped it');
    const reloads = sup.events.recent().filter((e) => e.kind === 'reloaded').length;
    await bot.restartByHandOver('restart requested for main');
    await waitFor(() => bot.state === 'ready', { timeoutMs: 15_000, what: 'the stopped bot to start' });
    expect(sup.events.recent().filter((e) => e.kind === 'reloaded').length, 'a stopped bot is started, not handed over').to.equal(reloads);
    await answers(token, 71, 'started again');
  });
});
