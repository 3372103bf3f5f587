import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, descendants, loadConfig } from '@botvisor/core';
import { NOT_AUTHORIZED_TEXT } from '@botvisor/runtime';
import { Supervisor } from '@botvisor/supervisor';
import { fakeToken, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { BUILTIN_MODULES } from './support/builtin-modules.js';

const CRASH_BOT = fileURLToPath(new URL('./fixtures/crash-bot.js', import.meta.url));
/** This package's built-in bots, passed to the supervisor as its callers (the CLI, the daemon) pass them. */
const ADMIN = { id: 1001, first_name: 'Ada' };
const MEMBER = { id: 2002, first_name: 'Bob' };
const STRANGER = { id: 3003, first_name: 'Eve' };

const token = fakeToken;

describe('built-in bots under a real supervisor', function () {
  this.timeout(120_000);
  const bed = useTestbed();

  async function start(bots: object[], supervisor: object = {}): Promise<Supervisor> {
    const dir = bed.temp.make('botvisor-bots-');
    const file = path.join(dir, 'botvisor.json');
    writeFileSync(file, JSON.stringify({ apiRoot: bed.sim.url, http: { port: 0 }, supervisor: { stopGraceMs: 3000, pingIntervalMs: 500, ...supervisor }, bots }));
    const config = loadConfig(file);
    const sup = await Supervisor.start({ config, configFile: file, builtinModules: BUILTIN_MODULES, logger: createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' }) });
    bed.onCleanup(() => sup.stop());
    return sup;
  }

  const bridge = (t: string, extra: object = {}) => ({
    name: 'bridge',
    kind: 'bridge',
    token: t,
    allow: [ADMIN.id, MEMBER.id],
    admins: [ADMIN.id],
    commands: {
      sleep: { argv: ['sleep', '{secs}'], args: { secs: '^[0-9]{1,4}$' }, description: 'sleeps' },
      hello: { argv: ['echo', 'hello from a tool'] },
      nap: { argv: ['sleep', '{secs}'], args: { secs: '^[0-9]{1,3}$' }, takes: 'a number of seconds, 1–999', example: '30' },
    },
    ...extra,
  });

  async function say(t: string, user: { id: number; first_name: string }, command: string, args?: string): Promise<string> {
    const { cursor } = bed.sim.users.sendCommand(t, { user, command, ...(args !== undefined ? { args } : {}) });
    const reply = await bed.sim.client.waitForMessage(t, user.id, { after: cursor, timeoutMs: 15_000 });
    return reply.text ?? '';
  }

  it('/help lists the configured commands with their patterns; setMyCommands was called; unknown commands are answered', async () => {
    const t = token();
    await (await start([bridge(t)])).waitReady(30_000);
    const help = await say(t, ADMIN, 'help');
    expect(help).to.include('/sleep <secs> (secs: ^[0-9]{1,4}$) — sleeps').and.include('/hello — runs echo').and.include('/restart — restart this bot (admins)');
    expect(help).to.include('/nap <secs> (a number of seconds, 1–999, e.g. /nap 30) — runs sleep');
    expect(await say(t, MEMBER, 'help')).to.not.include('/restart');
    expect(await say(t, ADMIN, 'frobnicate')).to.equal("I don't know /frobnicate. Send /help for the list.");
    const commands = (await fetch(`${bed.sim.url}/bot${t}/getMyCommands`).then((r) => r.json())) as { result: Array<{ command: string }> };
    expect(commands.result.map((c) => c.command)).to.include.members(['help', 'sleep', 'hello', 'stop']);
  });

  it('a button whose data no handler knows (an older version\'s) is answered, so the spinner stops', async () => {
    const t = token();
    await (await start([bridge(t)])).waitReady(30_000);
    await say(t, ADMIN, 'start'); // the chat exists once the user has talked to the bot
    // A message an earlier version of the bot sent, with a button this version does not handle.
    const sent = (await fetch(`${bed.sim.url}/bot${t}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: ADMIN.id, text: 'old', reply_markup: { inline_keyboard: [[{ text: 'old', callback_data: 'v0:frobnicate:7' }]] } }),
    }).then((r) => r.json())) as { result: { message_id: number } };
    const tap = bed.sim.users.tapButton(t, { user: ADMIN, message_id: sent.result.message_id, data: 'v0:frobnicate:7' });
    const answer = await waitFor(async () => (await bed.sim.client.transcript(t, ADMIN.id, tap.cursor)).entries.find((e) => e.kind === 'callback_answer'), { timeoutMs: 15_000, what: 'the callback answer' });
    expect(answer.text).to.equal('This button no longer does anything.');
  });

  it('/sleep 30 then /stop kills the job and says so', async () => {
    const t = token();
    const s = await start([bridge(t)]);
    await s.waitReady(30_000);
    bed.sim.users.sendCommand(t, { user: ADMIN, command: 'sleep', args: '30' });
    const botPid = s.bots.get('bridge')?.pid as number;
    const sleeper = await waitFor(() => descendants(botPid).find((p) => p.command === 'sleep'), { what: 'the sleep job to run' });
    const reply = await say(t, ADMIN, 'stop');
    expect(reply).to.equal('Stopping 1 running job.');
    await waitFor(() => !descendants(botPid).some((p) => p.pid === sleeper.pid && p.state !== 'Z'), { timeoutMs: 10_000, what: 'the sleep process to be gone' });
    await bed.sim.client.waitForMessage(t, ADMIN.id, { pattern: /cancel|stopped/i, timeoutMs: 10_000 });
  });

  it('a user not on the allow list gets "not authorized"', async () => {
    const t = token();
    await (await start([bridge(t)])).waitReady(30_000);
    expect(await say(t, STRANGER, 'help')).to.equal(NOT_AUTHORIZED_TEXT);
  });

  it('/restart by an admin hands over to a fresh process and is followed by "back after N s"; a non-admin is refused', async () => {
    const t = token();
    const s = await start([bridge(t)]);
    await s.waitReady(30_000);
    expect(await say(t, MEMBER, 'restart')).to.equal('Only an admin may restart me.');
    const { cursor } = bed.sim.users.sendCommand(t, { user: ADMIN, command: 'restart' });
    await bed.sim.client.waitForMessage(t, ADMIN.id, { after: cursor, text: 'Restarting…' });
    const back = await bed.sim.client.waitForMessage(t, ADMIN.id, { after: cursor, pattern: /^Back after \d+ s\.$/, timeoutMs: 20_000 });
    expect(back.text).to.match(/^Back after \d+ s\.$/);
    expect(s.bots.get('bridge')?.restarts).to.equal(1);
    // A fresh process by a hand-over, not exit 42: the token was never left without a poller.
    expect(s.events.recent().some((e) => e.kind === 'reloaded' && e.bot === 'bridge' && /asked by the bot: \/restart by user/.test(e.message))).to.equal(true);
    expect(s.bots.get('bridge')?.status().lastExit).to.equal(null);
    expect((await bed.sim.client.stats(t)).maxPendingPollers).to.equal(1);
  });

  it('kill -9 of the bot during /sleep 30: after the restart the owner is told, and Retry runs it again', async () => {
    const t = token();
    const s = await start([bridge(t)]);
    await s.waitReady(30_000);
    const first = s.bots.get('bridge');
    bed.sim.users.sendCommand(t, { user: ADMIN, command: 'sleep', args: '30' });
    const pid = first?.pid as number;
    await waitFor(() => descendants(pid).some((p) => p.command === 'sleep'), { what: 'the job to run' });
    process.kill(pid, 'SIGKILL');
    const notice = await bed.sim.client.waitForMessage(t, ADMIN.id, { pattern: /interrupted/i, timeoutMs: 30_000 });
    const keyboard = notice.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> } | undefined;
    const retry = keyboard?.inline_keyboard.flat().find((b) => /retry/i.test(b.text));
    expect(retry, `a Retry button on: ${notice.text}`).to.not.equal(undefined);
    bed.sim.users.tapButton(t, { user: ADMIN, message_id: notice.message_id as number, data: retry?.callback_data as string });
    await waitFor(() => {
      const now = s.bots.get('bridge')?.pid;
      return now !== undefined && now !== pid && descendants(now).some((p) => p.command === 'sleep');
    }, { timeoutMs: 20_000, what: 'the retried job to run in the new bot' });
  });

  it('a crash loop of another bot produces one alert, edited with the count', async () => {
    const t = token();
    const s = await start(
      [bridge(t), { name: 'alerts', kind: 'alerts', token: t, chats: [ADMIN.id] }, { name: 'crashy', module: CRASH_BOT, token: token() }],
      { backoffInitialMs: 300, backoffMaxMs: 600, crashBudget: 100 },
    );
    await say(t, ADMIN, 'start'); // the chat must exist before a bot can write to it
    await waitFor(() => (s.bots.get('crashy')?.restarts ?? 0) >= 6, { timeoutMs: 30_000, what: 'six restarts of the crashing bot' });
    const thread = await waitFor(async () => {
      const entries = (await bed.sim.client.transcript(t, ADMIN.id)).entries.filter((e) => (e.text ?? '').includes('crashy'));
      const last = entries.at(-1);
      return last !== undefined && /\n([3-9]|\d\d) times since .* \(a crash loop\)/.test(last.text ?? '') ? entries : undefined;
    }, { timeoutMs: 30_000, what: 'the crash alert to be edited to a count of 3 or more' });
    const sends = thread.filter((e) => e.kind === 'sent');
    expect(sends, JSON.stringify(thread.map((e) => [e.kind, e.text]))).to.have.length(1);
    expect(thread.filter((e) => e.kind === 'edited').length).to.be.at.least(1);
    const alertsLog = s.bots.get('alerts')?.status();
    expect(alertsLog?.polling).to.equal(false);
  });

  /** Every transcript entry about job `id`, with the message ids it used. */
  async function jobThread(t: string, userId: number, id: number) {
    const entries = (await bed.sim.client.transcript(t, userId)).entries.filter((e) => (e.kind === 'sent' || e.kind === 'edited') && new RegExp(`Job #${id}\\b`).test(e.text ?? ''));
    return { entries, sends: entries.filter((e) => e.kind === 'sent'), last: entries.at(-1) };
  }

  it('one message per job: a queued job\'s card is edited to running and to done, its Stop button gone at the end', async () => {
    const t = token();
    await (await start([bridge(t)])).waitReady(30_000);
    bed.sim.users.sendCommand(t, { user: ADMIN, command: 'sleep', args: '2' });
    await bed.sim.client.waitForMessage(t, ADMIN.id, { pattern: /^▶ Job #1: \/sleep 2/, timeoutMs: 10_000 });
    const { cursor } = bed.sim.users.sendCommand(t, { user: ADMIN, command: 'sleep', args: '1' });
    const queued = await bed.sim.client.waitForMessage(t, ADMIN.id, { after: cursor, pattern: /^⏳ Job #2 \(\/sleep 1\) is queued, 1 ahead of it\.$/, timeoutMs: 10_000 });
    expect(queued.reply_markup).to.deep.equal({ inline_keyboard: [[{ text: '⏹ Stop #2', callback_data: 'job:stop:2' }]] });
    const done = await bed.sim.client.waitForMessage(t, ADMIN.id, { after: cursor, pattern: /^✅ Job #2 \(\/sleep 1\) done in/, timeoutMs: 20_000 });
    expect(done.kind).to.equal('edited');
    expect(done.message_id, 'the same message, edited').to.equal(queued.message_id);
    expect(done.text).to.match(/done in \d\.\d s\.\n\(no output\)$/);
    expect(done.reply_markup, 'no Stop button after the end').to.equal(undefined);
    const job2 = await jobThread(t, ADMIN.id, 2);
    expect(job2.sends, JSON.stringify(job2.entries.map((e) => [e.kind, e.text]))).to.have.length(1);
    expect(job2.entries.map((e) => [...(e.text ?? '')][0]), 'queued → running → done').to.include.members(['⏳', '▶', '✅']);
    await bed.sim.client.waitForMessage(t, ADMIN.id, { pattern: /^✅ Job #1 \(\/sleep 2\) done/, timeoutMs: 10_000 });
    const job1 = await jobThread(t, ADMIN.id, 1);
    expect(job1.sends, 'a job that started at once is one message too').to.have.length(1);
  });

  it('the Stop button on a running job\'s card stops it; the card says so and loses the button', async () => {
    const t = token();
    await (await start([bridge(t)])).waitReady(30_000);
    bed.sim.users.sendCommand(t, { user: MEMBER, command: 'sleep', args: '30' });
    const card = await bed.sim.client.waitForMessage(t, MEMBER.id, { pattern: /^▶ Job #1: \/sleep 30/, timeoutMs: 10_000 });
    expect(card.reply_markup).to.deep.equal({ inline_keyboard: [[{ text: '⏹ Stop #1', callback_data: 'job:stop:1' }]] });
    const tap = bed.sim.users.tapButton(t, { user: MEMBER, message_id: card.message_id as number, data: 'job:stop:1' });
    const stopped = await bed.sim.client.waitForMessage(t, MEMBER.id, { after: tap.cursor, pattern: /^⏹ Job #1 \(\/sleep 30\) stopped after/, timeoutMs: 15_000 });
    expect(stopped).to.include({ kind: 'edited', message_id: card.message_id });
    expect(stopped.reply_markup).to.equal(undefined);
    const answers = (await bed.sim.client.transcript(t, MEMBER.id, tap.cursor)).entries.filter((e) => e.kind === 'callback_answer').map((e) => e.text);
    expect(answers).to.deep.equal(['Stopping job #1.']);
  });

  it('a job stopped from the dashboard reads "stopped by the operator", not "killed by SIGTERM"', async () => {
    const t = token();
    const s = await start([bridge(t)]);
    await s.waitReady(30_000);
    bed.sim.users.sendCommand(t, { user: ADMIN, command: 'sleep', args: '30' });
    await bed.sim.client.waitForMessage(t, ADMIN.id, { pattern: /^▶ Job #1: \/sleep 30/, timeoutMs: 10_000 });
    const child = await waitFor(() => s.bots.get('bridge')?.trackedChildren().find((c) => c.command === 'sleep'), { what: 'the job to be tracked' });
    const base = s.http?.url as string;
    // Actions are the owner's: open the one-time login link as the browser would, then the page's session.
    const login = await fetch(s.dashboardLoginUrl() as string, { redirect: 'manual' });
    const owner = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const session = await fetch(`${base}/api/session`, { headers: { cookie: owner } });
    const { csrfToken } = (await session.json()) as { csrfToken: string };
    const cookie = `${(session.headers.get('set-cookie') ?? '').split(';')[0] as string}; ${owner}`;
    const stop = await fetch(`${base}/api/bots/bridge/children/${child.pid}/stop`, { method: 'POST', headers: { origin: new URL(base).origin, cookie, 'x-botvisor-csrf': csrfToken } });
    expect(stop.status, await stop.clone().text()).to.equal(200);
    const card = await bed.sim.client.waitForMessage(t, ADMIN.id, { pattern: /^⏹ Job #1 \(\/sleep 30\) stopped by the operator after \d/, timeoutMs: 15_000 });
    expect(card.text).to.not.include('SIGTERM');
  });

  it('a refusal says what it refused and why, in the config\'s words, once; plain text gets one /help hint per user now and then', async () => {
    const t = token();
    await (await start([bridge(t)])).waitReady(30_000);
    const bad = bed.sim.users.sendCommand(t, { user: MEMBER, command: 'nap', args: 'soon' });
    const refusal = await bed.sim.client.waitForMessage(t, MEMBER.id, { after: bad.cursor, timeoutMs: 10_000 });
    expect(refusal.text).to.equal('/nap takes a number of seconds, 1–999, e.g. /nap 30 (not "soon").');

    const first = bed.sim.users.sendMessage(t, { user: MEMBER, text: 'hello there' });
    const hint = await bed.sim.client.waitForMessage(t, MEMBER.id, { after: first.cursor, timeoutMs: 10_000 });
    expect(hint.text).to.equal('I run commands, not conversations: send /help to see them.');
    bed.sim.users.sendMessage(t, { user: MEMBER, text: 'are you there?' });
    const who = bed.sim.users.sendCommand(t, { user: MEMBER, command: 'whoami' });
    await bed.sim.client.waitForMessage(t, MEMBER.id, { after: who.cursor, pattern: /^You are Bob/, timeoutMs: 10_000 });
    const hints = (await bed.sim.client.transcript(t, MEMBER.id)).entries.filter((e) => e.text === hint.text);
    expect(hints, 'the second plain message got no second hint').to.have.length(1);
    const otherUser = bed.sim.users.sendMessage(t, { user: ADMIN, text: 'hi' });
    expect((await bed.sim.client.waitForMessage(t, ADMIN.id, { after: otherUser.cursor, timeoutMs: 10_000 })).text, 'rate limited per user').to.equal(hint.text);
  });

  it('alerts: a crash after a recovery is a new message; the recovery is a quiet note; a requested restart one quiet message', async () => {
    const t = token();
    const s = await start([bridge(t), { name: 'alerts', kind: 'alerts', token: t, chats: [ADMIN.id], healthyAfterSec: 1 }, { name: 'worker', kind: 'bridge', token: token(), allow: [ADMIN.id], commands: {} }], {
      backoffInitialMs: 100,
      backoffMaxMs: 300,
    });
    await s.waitReady(30_000);
    await say(t, ADMIN, 'start'); // the chat must exist before a bot can write to it
    const alertsAbout = async () => (await bed.sim.client.transcript(t, ADMIN.id)).entries.filter((e) => /bot worker/.test(e.text ?? ''));

    const crash = async (n: number) => {
      const pid = s.bots.get('worker')?.pid as number;
      process.kill(pid, 'SIGKILL');
      await waitFor(async () => (await alertsAbout()).filter((e) => e.kind === 'sent' && /back up after/.test(e.text ?? '')).length === n, { timeoutMs: 30_000, what: `recovery note ${n}` });
    };
    await crash(1);
    await crash(2);
    const entries = await alertsAbout();
    const crashes = entries.filter((e) => e.kind === 'sent' && /^💥 bot worker crashed/.test(e.text ?? ''));
    expect(crashes, JSON.stringify(entries.map((e) => [e.kind, e.text]))).to.have.length(2);
    expect(crashes.every((e) => e.disable_notification !== true), 'a new incident notifies').to.equal(true);
    const recoveries = entries.filter((e) => /^✅ bot worker back up after \d+\.\d s$/.test(e.text ?? ''));
    expect(recoveries).to.have.length(2);
    expect(recoveries.every((e) => e.disable_notification === true), 'recoveries are quiet').to.equal(true);

    await s.restart('worker');
    const restarted = await waitFor(async () => (await alertsAbout()).find((e) => /restarted on request/.test(e.text ?? '')), { timeoutMs: 20_000, what: 'the requested restart note' });
    expect(restarted.text).to.match(/^🔄 bot worker restarted on request; back up after \d+\.\d s$/);
    expect(restarted.disable_notification).to.equal(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await alertsAbout()).filter((e) => /restarted on request/.test(e.text ?? '')), 'reported once').to.have.length(1);
  });

  it('refuses at start-up a config command that shadows a built-in: errored at once (exit 78), not a restart loop', async () => {
    const t = token();
    const s = await start([bridge(t, { commands: { help: { argv: ['echo', 'mine'] } } })]);
    const bot = s.bots.get('bridge');
    await waitFor(() => bot?.state === 'errored', { timeoutMs: 20_000, what: 'the bridge to be errored' });
    expect(bot?.status().lastExit?.code).to.equal(78);
    expect(bot?.restarts).to.equal(0);
  });
});
