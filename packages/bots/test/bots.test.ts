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
    commands: { sleep: { argv: ['sleep', '{secs}'], args: { secs: '^[0-9]{1,4}$' }, description: 'sleeps' }, hello: { argv: ['echo', 'hello from a tool'] } },
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

  it('/restart by an admin is followed by "back after N s"; a non-admin is refused', async () => {
    const t = token();
    const s = await start([bridge(t)]);
    await s.waitReady(30_000);
    expect(await say(t, MEMBER, 'restart')).to.equal('Only an admin may restart me.');
    const { cursor } = bed.sim.users.sendCommand(t, { user: ADMIN, command: 'restart' });
    await bed.sim.client.waitForMessage(t, ADMIN.id, { after: cursor, text: 'Restarting…' });
    const back = await bed.sim.client.waitForMessage(t, ADMIN.id, { after: cursor, pattern: /^Back after \d+ s\.$/, timeoutMs: 20_000 });
    expect(back.text).to.match(/^Back after \d+ s\.$/);
    expect(s.bots.get('bridge')?.restarts).to.equal(1);
    expect(s.bots.get('bridge')?.status().lastExit?.code).to.equal(42);
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
      return last !== undefined && /×([3-9]|\d\d)/.test(last.text ?? '') ? entries : undefined;
    }, { timeoutMs: 30_000, what: 'the crash alert to be edited to a count of 3 or more' });
    const sends = thread.filter((e) => e.kind === 'sent');
    expect(sends, JSON.stringify(thread.map((e) => [e.kind, e.text]))).to.have.length(1);
    expect(thread.filter((e) => e.kind === 'edited').length).to.be.at.least(1);
    const alertsLog = s.bots.get('alerts')?.status();
    expect(alertsLog?.polling).to.equal(false);
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
