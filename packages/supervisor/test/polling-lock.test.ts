import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, type Logger, loadConfig, pollingLockOwner } from '@botvisor/core';
import { exited, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { type ManagedBot, Supervisor } from '../src/index.js';
import { DAEMON, fixtureBot, type Installation, install, newToken } from './support/installation.js';

const USER = { id: 1001, first_name: 'Ada' };
const FAST = { pingIntervalMs: 500, hungAfterMs: 3000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 100, stopGraceMs: 2000 };

describe('one poller per token on the whole machine; a lost lock is taken back', function () {
  this.timeout(90_000);
  const bed = useTestbed();

  async function startSupervisor(inst: Installation, env?: NodeJS.ProcessEnv): Promise<{ sup: Supervisor; logger: Logger }> {
    const config = loadConfig(inst.configFile);
    const logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never', level: 'debug' });
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger, ...(env !== undefined ? { env } : {}) });
    bed.onCleanup(() => sup.stop());
    return { sup, logger };
  }

  function daemon(inst: Installation): ChildProcess {
    return bed.tracker.spawn(process.execPath, [DAEMON, '--config', inst.configFile], { stdio: 'ignore' });
  }

  async function echoes(token: string, text: string): Promise<void> {
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'echo', args: text });
    expect((await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, timeoutMs: 15_000 })).text).to.equal(`echo: ${text}`);
  }

  it('two installations on one token: the second one\'s bot does not poll, names the holder\'s pid and config, and takes over within 5 s of it stopping', async () => {
    const token = newToken();
    const locksDir = path.join(bed.temp.make('botvisor-machine-locks-'), 'locks'); // stands in for the machine-wide folder
    const first = install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST, { locksDir });
    const second = install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST, { locksDir });
    const holder = daemon(first);
    await waitFor(async () => (await bed.sim.client.stats(token)).pendingPollers === 1, { timeoutMs: 20_000, what: 'the first installation to poll' });

    const { sup } = await startSupervisor(second);
    const err = await sup.waitReady(10_000).catch((e: unknown) => e as Error);
    const sentence = `polling lock for this token is held by supervisor pid ${holder.pid} (config ${first.configFile})`;
    expect(err?.message).to.equal(`bot main is waiting: ${sentence}; it takes over by itself when the lock is free`);
    const bot = sup.bots.get('main') as ManagedBot;
    expect(bot.status()).to.include({ state: 'waiting', pid: null, problem: sentence });
    const [lock] = (await sup.status()).supervisor.locks;
    expect(lock).to.deep.include({ bot: 'main', held: false, state: 'waiting' });
    expect(lock?.owner).to.deep.include({ pid: holder.pid, role: 'supervisor', config: first.configFile });
    const health = await fetch(`${(await sup.status()).supervisor.httpUrl}/health`);
    expect(health.status).to.equal(503);
    await new Promise((r) => setTimeout(r, 2500)); // several of the second one's lock tries
    await echoes(token, 'first');

    holder.kill('SIGTERM');
    expect(await exited(holder)).to.equal(0);
    const stoppedAt = Date.now();
    await waitFor(() => bot.state === 'ready', { timeoutMs: 10_000, intervalMs: 50, what: 'the second installation to take over' });
    await waitFor(async () => (await bed.sim.client.stats(token)).pendingPollers === 1, { timeoutMs: 5000, intervalMs: 50, what: 'its bot to poll' });
    expect(Date.now() - stoppedAt).to.be.below(5000);
    expect(bot.status().problem).to.equal(null);
    expect(pollingLockOwner(locksDir, token)).to.include({ pid: process.pid, config: second.configFile });
    expect((await sup.status()).supervisor.locks[0]).to.deep.include({ held: true, state: 'held' });
    expect(sup.events.recent().some((e) => e.kind === 'lock-taken' && e.bot === 'main')).to.equal(true);
    await echoes(token, 'second');
    const stats = await bed.sim.client.stats(token);
    expect(stats.maxPendingPollers).to.equal(1);
    expect(stats.conflicts).to.equal(0);
  });

  it('a lock folder removed under a running bot: the lock is taken back, the bot polls again under it', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST);
    const { sup } = await startSupervisor(inst);
    await sup.waitReady(20_000);
    const bot = sup.bots.get('main') as ManagedBot;
    const before = bot.pid;
    rmSync(inst.locksDir, { recursive: true, force: true });
    await waitFor(() => sup.events.recent().some((e) => e.kind === 'lock-lost'), { timeoutMs: 15_000, what: 'the lost lock to be noticed' });
    await waitFor(() => bot.state === 'ready' && bot.pid !== before, { timeoutMs: 15_000, what: 'the bot to poll again' });
    expect(pollingLockOwner(inst.locksDir, token)).to.include({ pid: process.pid, role: 'supervisor' });
    expect((await sup.status()).supervisor.locks[0]).to.deep.include({ held: true, state: 'held' });
    expect(bot.status().problem).to.equal(null);
    await echoes(token, 'back');
    expect((await bed.sim.client.stats(token)).maxPendingPollers).to.equal(1);
  });

  it('a lost lock that cannot be taken back: the bot stays off getUpdates (a restart too) and status says so, until the lock is back', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST);
    const { sup } = await startSupervisor(inst);
    await sup.waitReady(20_000);
    const bot = sup.bots.get('main') as ManagedBot;
    rmSync(inst.locksDir, { recursive: true, force: true });
    writeFileSync(inst.locksDir, 'a file where the lock folder was: nothing can be locked here\n');
    await waitFor(() => bot.state === 'waiting', { timeoutMs: 20_000, what: 'the bot to stop and wait for its lock' });
    expect(bot.pid).to.equal(undefined);
    expect(bot.status().problem).to.match(/^polling lock for this token was lost \(.+\); polling stays stopped until it is taken again/);
    expect((await sup.status()).supervisor.locks[0]).to.deep.include({ held: false, state: 'lost', owner: null });
    const err = await sup.restart('main').catch((e: unknown) => e as Error);
    expect(err?.message).to.match(/^main is waiting \(polling lock for this token was lost/);
    expect(bot.state, 'a restart does not poll without the lock').to.equal('waiting');
    await waitFor(async () => (await bed.sim.client.stats(token)).pendingPollers === 0, { timeoutMs: 10_000, what: 'nobody to poll' });
    const calls = (await bed.sim.client.stats(token)).getUpdatesCalls;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await bed.sim.client.stats(token)).getUpdatesCalls).to.equal(calls);

    rmSync(inst.locksDir);
    await waitFor(() => bot.state === 'ready', { timeoutMs: 10_000, what: 'the bot to poll again once the lock is back' });
    expect(bot.status().problem).to.equal(null);
    expect((await sup.status()).supervisor.locks[0]).to.deep.include({ held: true, state: 'held' });
    await echoes(token, 'again');
  });
});

describe('errored is not the end', function () {
  this.timeout(90_000);
  const bed = useTestbed();

  async function startSupervisor(inst: Installation, env: NodeJS.ProcessEnv): Promise<Supervisor> {
    const config = loadConfig(inst.configFile);
    const logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never', level: 'debug' });
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger, env });
    bed.onCleanup(() => sup.stop());
    return sup;
  }

  it('an errored bot is tried again every erroredRetryMs, with an event each time, and stays up once its cause is gone', async () => {
    const token = newToken();
    const marker = path.join(bed.temp.make('botvisor-cause-'), 'broken');
    writeFileSync(marker, 'while this file exists the bot exits at start\n');
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], { ...FAST, crashBudget: 1, erroredRetryMs: 1500 });
    const sup = await startSupervisor(inst, { ...process.env, FIXTURE_EXIT_WHILE_FILE: marker });
    const bot = sup.bots.get('main') as ManagedBot;
    await waitFor(() => bot.state === 'errored', { timeoutMs: 20_000, what: 'the bot to be errored' });
    expect(bot.status().problem).to.match(/tried again in 2 s, or now with 'botvisor restart main'/);
    await waitFor(() => sup.events.recent().filter((e) => e.kind === 'retrying').length >= 2, { timeoutMs: 15_000, what: 'two retries' });
    const retries = sup.events.recent().filter((e) => e.kind === 'retrying');
    expect(retries[0]?.message).to.equal('bot main is tried again after erroring: it has been errored for 2 s');
    expect(Date.parse(retries[1]?.at as string) - Date.parse(retries[0]?.at as string)).to.be.at.least(1400);
    rmSync(marker);
    await waitFor(() => bot.state === 'ready', { timeoutMs: 15_000, what: 'the bot to come back by itself' });
    expect(bot.status().problem).to.equal(null);
  });

  it('a data folder full at start-up: errored says so, and the bot is tried again as soon as the folder takes a write', async function () {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], { ...FAST, crashBudget: 1, erroredRetryMs: 600_000 });
    // A tiny tmpfs as the bot's own folder, then filled: a full disk, for real (tests run as root, where chmod does not stop writes).
    const botDir = path.join(inst.dataDir, 'bots', 'main');
    mkdirSync(botDir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', botDir], { stdio: 'ignore' });
    } catch {
      this.skip(); // mounting needs root
    }
    bed.onCleanup(() => {
      execFileSync('umount', ['-l', botDir], { stdio: 'ignore' });
    });
    const filler = path.join(botDir, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(1024 * 1024));
    } catch {
      // ENOSPC: full, as intended
    }
    const sup = await startSupervisor(inst, process.env);
    const bot = sup.bots.get('main') as ManagedBot;
    await waitFor(() => bot.state === 'errored', { timeoutMs: 20_000, what: 'the bot to be errored' });
    expect(bot.status().problem).to.include(`its data folder ${botDir} refuses writes (ENOSPC): it is tried again as soon as it takes one`);
    await new Promise((r) => setTimeout(r, 1000));
    expect(bot.state, 'no retry while the folder is still full').to.equal('errored');

    rmSync(filler);
    const freedAt = Date.now();
    await waitFor(() => bot.state === 'ready', { timeoutMs: 20_000, what: 'the bot to come back once space is free' });
    expect(Date.now() - freedAt).to.be.below(15_000);
    const retry = sup.events.recent().find((e) => e.kind === 'retrying');
    expect(retry?.message).to.equal('bot main is tried again after erroring: its data folder takes writes again');
    expect(existsSync(path.join(botDir, `.botvisor-probe-${process.pid}`))).to.equal(false);
  });
});
