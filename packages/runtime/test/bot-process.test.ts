import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { acquirePollingLock, pollingLockOwner } from '@botvisor/core';
import { useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { HANDLER_ERROR_TEXT, NOT_AUTHORIZED_TEXT } from '../src/index.js';
import { install, newToken, startBot } from './support/bot-harness.js';

const USER = { id: 1001, first_name: 'Ada' };
const OTHER = { id: 2002, first_name: 'Bob' };

describe('bot process (real forked bots against the simulator)', function () {
  this.timeout(60_000);
  const bed = useTestbed();

  it('starts in order, says ready over IPC, answers a command, and stops cleanly on SIGTERM', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token }));
    await bot.ready();
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'echo', args: 'hello' });
    const reply = await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, timeoutMs: 10_000 });
    expect(reply.text).to.equal('echo: hello');
    bot.child.kill('SIGTERM');
    expect(await bot.exited()).to.equal(0);
    const msgs = bot.logLines().map((l) => l.msg);
    expect(msgs).to.include.members(['polling', 'ready', 'stopping', 'stopped']);
    expect(msgs.indexOf('ready')).to.be.below(msgs.indexOf('stopping'));
  });

  it('answers ping with pong carrying event-loop delay and queue depth', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token }));
    await bot.ready();
    bot.child.send({ type: 'ping', seq: 7 });
    const pong = await waitFor(() => bot.messages.find((m) => m.type === 'pong'), { what: 'a pong' });
    expect(pong).to.include({ type: 'pong', seq: 7, queueDepth: 0, runningJobs: 0 });
    expect((pong as { eventLoopDelayMs: number }).eventLoopDelayMs).to.be.a('number').and.at.least(0);
  });

  it('a bot that calls runtime.onSupervisorEvent sends subscribe-events once and gets the events; one that does not sends none', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token });
    const eventFile = path.join(inst.dir, 'events.jsonl');
    const bot = startBot(bed.tracker, inst, { env: { FIXTURE_EVENT_FILE: eventFile } });
    await bot.ready();
    expect(bot.messages.filter((m) => m.type === 'subscribe-events'), 'two handlers, one subscription').to.have.length(1);
    bot.child.send({ type: 'event', event: { kind: 'crash', bot: 'other', at: new Date().toISOString(), message: 'other crashed' } });
    const events = (): unknown[] => (existsSync(eventFile) ? readFileSync(eventFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown) : []);
    await waitFor(() => events().length === 2, { what: 'the event to reach both handlers' });
    expect(events()).to.deep.equal([
      { handler: 'first', kind: 'crash' },
      { handler: 'second', kind: 'crash' },
    ]);

    const quiet = startBot(bed.tracker, install(bed.temp, bed.sim, { token: newToken() }));
    await quiet.ready();
    expect(quiet.messages.filter((m) => m.type === 'subscribe-events')).to.deep.equal([]);
  });

  it('stops when the IPC channel disconnects (the supervisor died): an orphan never keeps polling', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token }));
    await bot.ready();
    bot.child.disconnect();
    expect(await bot.exited()).to.equal(0);
    expect(bot.logLines().some((l) => l.msg === 'stopping' && String(l.why).includes('IPC disconnected'))).to.equal(true);
  });

  it('holds updates sent before ready and handles every one after it', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token });
    for (let i = 0; i < 10; i++) bed.sim.users.sendMessage(token, { user: USER, text: `n${i}` });
    const bot = startBot(bed.tracker, inst, { env: { FIXTURE_SERVICE_DELAY_MS: '1500' } });
    await bot.ready();
    await waitFor(() => bot.records().length === 10, { what: 'ten handled updates' });
    for (const r of bot.records()) expect(r.at).to.be.at.least(bot.readyAt as number);
  });

  it('answers chat B promptly while chat A\'s handler sleeps 5 s', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token }));
    await bot.ready();
    bed.sim.users.sendCommand(token, { user: USER, command: 'slow', args: '5' });
    await waitFor(async () => (await bed.sim.client.stats(token)).updatesDelivered >= 1, { what: 'the slow command to reach the bot' });
    const started = Date.now();
    const { cursor } = bed.sim.users.sendCommand(token, { user: OTHER, command: 'fast' });
    await bed.sim.client.waitForMessage(token, OTHER.id, { after: cursor, text: 'fast', timeoutMs: 4000 });
    expect(Date.now() - started).to.be.below(1000);
    const a = await bed.sim.client.transcript(token, USER.id);
    expect(a.entries.some((e) => e.text === 'slow done'), 'chat A is still sleeping').to.equal(false);
  });

  it('refuses a user not on the allow list: one "not authorized" reply, no handler runs', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token, allow: [USER.id] }));
    await bot.ready();
    const { cursor } = bed.sim.users.sendCommand(token, { user: OTHER, command: 'echo', args: 'let me in' });
    bed.sim.users.sendCommand(token, { user: OTHER, command: 'echo', args: 'again' });
    const reply = await bed.sim.client.waitForMessage(token, OTHER.id, { after: cursor });
    expect(reply.text).to.equal(NOT_AUTHORIZED_TEXT);
    const ok = bed.sim.users.sendCommand(token, { user: USER, command: 'echo', args: 'me' });
    await bed.sim.client.waitForMessage(token, USER.id, { after: ok.cursor, text: 'echo: me' });
    const transcript = await bed.sim.client.transcript(token, OTHER.id);
    expect(transcript.entries.filter((e) => e.text === NOT_AUTHORIZED_TEXT)).to.have.length(1);
    // The fixture records an update after its handler's reply returns: wait for that, not for the reply.
    await waitFor(() => bot.records().length === 1, { what: "the allowed user's update to be recorded" });
    expect(bot.records().map((r) => r.chat)).to.deep.equal([USER.id]);
  });

  it('survives a handler that throws: ERROR with the update id (not the text), a friendly reply, and the bot goes on', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token }));
    await bot.ready();
    const boom = bed.sim.users.sendCommand(token, { user: USER, command: 'boom', args: 'secret-words' });
    expect((await bed.sim.client.waitForMessage(token, USER.id, { after: boom.cursor })).text).to.equal(HANDLER_ERROR_TEXT);
    const echo = bed.sim.users.sendCommand(token, { user: USER, command: 'echo', args: 'still here' });
    expect((await bed.sim.client.waitForMessage(token, USER.id, { after: echo.cursor })).text).to.equal('echo: still here');
    const failure = bot.logLines().find((l) => l.msg === 'a handler failed');
    expect(failure?.level).to.equal('error');
    expect(failure?.updateId).to.equal(boom.update_id);
    expect(JSON.stringify(bot.logLines())).to.not.include('secret-words');
  });

  it('exits non-zero on an unhandled rejection in a handler\'s background promise, after logging it with the stack', async () => {
    const token = newToken();
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token }));
    await bot.ready();
    bed.sim.users.sendCommand(token, { user: USER, command: 'bg' });
    expect(await bot.exited()).to.equal(1);
    const crash = bot.logLines().find((l) => l.msg.startsWith('unhandled promise rejection'));
    expect(crash?.level).to.equal('error');
    expect(JSON.stringify(crash?.err)).to.include('background failure nobody awaited').and.include('test-bot.js');
  });

  it('a main bot started by hand while the lock is held exits non-zero naming the holder', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token });
    const held = await acquirePollingLock({ locksDir: inst.locksDir, token, role: 'supervisor', config: '/srv/other/botvisor.json' });
    bed.onCleanup(() => held.release());
    const bot = startBot(bed.tracker, inst, { ipc: false });
    expect(await bot.exited()).to.equal(1);
    expect(bot.stderr).to.match(new RegExp(`Telegram polling lock for this token is held by supervisor pid ${process.pid} \\(config /srv/other/botvisor.json\\) since \\d{4}-`));
    expect(bot.stderr).to.include('lock handshake');
    expect((await bed.sim.client.stats(token)).getUpdatesCalls).to.equal(0);
  });

  it('a bot started by hand takes its polling lock in the config\'s lock folder, naming its config file, and releases it on exit', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token });
    const bot = startBot(bed.tracker, inst, { ipc: false });
    await waitFor(() => pollingLockOwner(inst.locksDir, token), { timeoutMs: 15_000, what: 'the bot to take its polling lock' });
    expect(pollingLockOwner(inst.locksDir, token)).to.include({ pid: bot.child.pid, role: 'main', config: inst.configFile });
    bot.child.kill('SIGTERM');
    expect(await bot.exited()).to.equal(0);
    expect(pollingLockOwner(inst.locksDir, token)).to.equal(undefined);
  });

  it('an auxiliary bot on a held token logs one WARNING and runs send-only: no getUpdates at all', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token, auxiliary: true });
    const held = await acquirePollingLock({ locksDir: inst.locksDir, token, role: 'supervisor', config: '/srv/other/botvisor.json' });
    bed.onCleanup(() => held.release());
    const bot = startBot(bed.tracker, inst);
    await bot.ready();
    await new Promise((r) => setTimeout(r, 500));
    const stats = await bed.sim.client.stats(token);
    expect(stats.getUpdatesCalls).to.equal(0);
    const warnings = bot.logLines().filter((l) => l.level === 'warning' && l.msg.startsWith('polling disabled: lock held by supervisor pid'));
    expect(warnings).to.have.length(1);
  });

  it('a bad token exits with code 78 and says so', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, { token });
    const cfg = JSON.parse(readFileSync(inst.configFile, 'utf8')) as { apiRoot: string };
    cfg.apiRoot = `${bed.sim.url}/nowhere`; // every method answers 404, as Telegram does for an unknown token
    writeFileSync(inst.configFile, JSON.stringify(cfg));
    const bot = startBot(bed.tracker, inst, { ipc: false });
    expect(await bot.exited()).to.equal(78);
    expect(bot.stderr).to.match(/^botvisor-bot: the Bot API refused the token at (deleteWebhook|getMe) \(404 Not Found\); check it with @BotFather and fix the config$/m);
    expect(bot.stderr).to.not.include(token.split(':')[1] as string);
  });
});
