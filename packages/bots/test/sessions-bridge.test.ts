import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, createLogger, descendants, isDeadState, loadConfig, readProcess } from '@botvisor/core';
import { Supervisor } from '@botvisor/supervisor';
import { FAKE_AGENT, fakeToken, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { BUILTIN_MODULES } from './support/builtin-modules.js';

const FAST_BRIDGE = fileURLToPath(new URL('./fixtures/fast-bridge.js', import.meta.url));
const ADA = { id: 1001, first_name: 'Ada' };
const BOB = { id: 2002, first_name: 'Bob' };

function alive(pid: number): boolean {
  const info = readProcess(pid);
  return info !== undefined && !isDeadState(info.state);
}

const sessions = () => ({
  agent: { argv: [process.execPath, FAKE_AGENT, '--protocol', 'stream-json'], protocol: 'stream-json', idleTimeoutSec: 600, maxSessions: 4, budget: { dailyCostUsd: 5, dailyTokens: 2_000_000 }, default: true },
  shell: { argv: [process.execPath, FAKE_AGENT, '--protocol', 'lines'], protocol: 'lines', turnIdleMs: 300, idleTimeoutSec: 300 },
});

describe('bridge sessions under a real supervisor', function () {
  this.timeout(120_000);
  const bed = useTestbed();

  function writeConfig(bots: object[]): string {
    const dir = bed.temp.make('botvisor-sessions-');
    const file = path.join(dir, 'botvisor.json');
    writeFileSync(file, JSON.stringify({ apiRoot: bed.sim.url, http: { port: 0 }, supervisor: { stopGraceMs: 3000, pingIntervalMs: 500 }, bots }));
    return file;
  }

  async function start(bots: object[]): Promise<Supervisor> {
    const file = writeConfig(bots);
    const config = loadConfig(file);
    const sup = await Supervisor.start({ config, configFile: file, builtinModules: BUILTIN_MODULES, logger: createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' }) });
    bed.onCleanup(() => sup.stop());
    await sup.waitReady(30_000);
    return sup;
  }

  const bridge = (t: string, extra: object = {}) => ({ name: 'bridge', kind: 'bridge', token: t, allow: [ADA.id, BOB.id], admins: [ADA.id], commands: { hello: { argv: ['echo', 'hi'] } }, sessions: sessions(), ...extra });

  async function write(t: string, user: typeof ADA, text: string, pattern: RegExp): Promise<string> {
    const { cursor } = bed.sim.users.sendMessage(t, { user, text });
    const reply = await bed.sim.client.waitForMessage(t, user.id, { after: cursor, pattern, timeoutMs: 20_000 });
    return reply.text ?? '';
  }

  it('a plain message goes to the default session, /shell to the named one; state is kept; /sessions, /help and the supervisor see them; /stop ends them', async () => {
    const t = fakeToken();
    const s = await start([bridge(t)]);
    expect(await write(t, ADA, 'hello there', /you said/)).to.equal('turn 1: you said hello there');
    expect(await write(t, ADA, 'and again', /turn 2/)).to.equal('turn 2: you said and again (before: hello there)');
    expect(await write(t, ADA, '/shell pid', /^pid \d+/)).to.match(/^pid \d+$/);
    const botPid = s.bots.get('bridge')?.pid as number;
    const agents = await waitFor(() => {
      const found = descendants(botPid).filter((p) => p.command === 'node' && !isDeadState(p.state));
      return found.length >= 2 ? found : undefined;
    }, { what: 'two agent processes under the bot' });
    await waitFor(() => (s.bots.get('bridge')?.status().children.length ?? 0) >= 2, { what: 'the supervisor to track both agents' });
    const list = await write(t, ADA, '/sessions', /^Sessions:/);
    expect(list).to.include('• agent (chat 1001): idle, 2 turns').and.include('• shell (chat 1001): idle, 1 turn');
    expect(await write(t, BOB, '/sessions', /session/)).to.equal('No session is running in this chat.');
    const help = await write(t, ADA, '/help', /Tools:/);
    expect(help).to.include('/agent <message> — talk to node (or just write)').and.include('/new [session]').and.include('/sessions');
    expect(await write(t, ADA, '/stop', /Stopped/)).to.equal('Stopped agent, shell and every process it started. Your next message starts a new session.\nNothing to stop: no job of yours is running.');
    await waitFor(() => agents.every((p) => !alive(p.pid)), { timeoutMs: 10_000, what: 'both agents to be gone' });
    expect(await write(t, ADA, '/new', /session/)).to.equal('No session is running in this chat; your next message starts one.');
    expect(await write(t, ADA, 'after the stop', /you said/)).to.equal('turn 1: you said after the stop');
  });

  it('100 messages in one second from one user are answered in order', async () => {
    const t = fakeToken();
    await start([{ name: 'bridge', module: FAST_BRIDGE, token: t, allow: [ADA.id], sessions: { agent: { ...sessions().agent, queueLimit: 100 } } }]);
    const { cursor } = bed.sim.users.sendMessage(t, { user: ADA, text: 'm0' });
    await bed.sim.client.waitForMessage(t, ADA.id, { after: cursor, pattern: /turn 1/, timeoutMs: 20_000 });
    const started = Date.now();
    for (let i = 1; i <= 100; i++) bed.sim.users.sendMessage(t, { user: ADA, text: `m${i}` });
    expect(Date.now() - started).to.be.below(1000);
    await bed.sim.client.waitForMessage(t, ADA.id, { after: cursor, pattern: /^turn 101: you said m100 /, timeoutMs: 60_000 });
    const turns = (await bed.sim.client.transcript(t, ADA.id, cursor)).entries.filter((e) => e.kind === 'sent' && /^turn /.test(e.text ?? '')).map((e) => e.text);
    expect(turns).to.deep.equal(Array.from({ length: 101 }, (_, i) => `turn ${i + 1}: you said m${i}${i > 0 ? ` (before: m${i - 1})` : ''}`));
  });

  it('kill -9 of the bot mid-turn: the agent is reaped, and after the restart the chat is told once', async () => {
    const t = fakeToken();
    const s = await start([bridge(t)]);
    await write(t, ADA, 'pid', /^pid \d+/);
    const agent = Number((await write(t, ADA, 'pid', /^pid \d+/)).split(' ')[1]);
    const { cursor } = bed.sim.users.sendMessage(t, { user: ADA, text: 'slow 30000' });
    await bed.sim.client.waitForMessage(t, ADA.id, { after: cursor, pattern: /working…/, timeoutMs: 20_000 });
    const first = s.bots.get('bridge')?.pid as number;
    process.kill(first, 'SIGKILL');
    const notice = await bed.sim.client.waitForMessage(t, ADA.id, { after: cursor, pattern: /session ended by a restart/, timeoutMs: 30_000 });
    expect(notice.text).to.equal('🔄 agent: session ended by a restart (1 message was not answered); your next message starts a new one.');
    await waitFor(() => !alive(agent), { timeoutMs: 10_000, what: 'the agent of the killed bot to be reaped' });
    expect(await write(t, ADA, 'hello again', /you said hello again/)).to.equal('turn 1: you said hello again');
    // A second restart does not tell it again.
    const { cursor: before } = bed.sim.users.sendMessage(t, { user: ADA, text: '/restart' });
    await bed.sim.client.waitForMessage(t, ADA.id, { after: before, pattern: /^Back after/, timeoutMs: 30_000 });
    const entries = (await bed.sim.client.transcript(t, ADA.id)).entries.filter((e) => /session ended by a restart/.test(e.text ?? ''));
    expect(entries.map((e) => e.text)).to.deep.equal([notice.text, '🔄 agent: session ended by a restart; your next message starts a new one.']);
  });

  it('config mistakes in sessions are refused with the path and what to do', () => {
    const t = fakeToken();
    const file = writeConfig([
      bridge(t, {
        sessions: {
          hello: { argv: ['x'], protocol: 'lines' },
          a: { argv: ['x'], protocol: 'lines', budget: { dailyCostUsd: 1 }, default: true },
          b: { argv: ['x'], protocol: 'stream-json', default: true, idle: 3 },
        },
      }),
    ]);
    let error: unknown;
    try {
      loadConfig(file);
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const text = (error as Error).message;
    expect(text).to.include('idle');
    const fixed = writeConfig([
      bridge(t, { sessions: { hello: { argv: ['x'], protocol: 'lines' }, a: { argv: ['x'], protocol: 'lines', budget: { dailyCostUsd: 1 }, default: true }, b: { argv: ['x'], protocol: 'stream-json', default: true } } }),
    ]);
    let second: unknown;
    try {
      loadConfig(fixed);
    } catch (err) {
      second = err;
    }
    const message = (second as Error).message;
    expect(message).to.include('bots[0].sessions.hello').and.include('is also a command');
    expect(message).to.include('bots[0].sessions.a.budget').and.include('a budget needs protocol "stream-json"');
    expect(message).to.include('only one session may be the default; a and b both say "default": true');
  });
});
