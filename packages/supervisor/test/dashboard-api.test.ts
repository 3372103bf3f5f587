import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type SimHandle, startSim } from '@botvisor/bot-api-sim';
import { SimSandboxChat } from '@botvisor/cli';
import { createLogger, isAlive, type Logger, loadConfig, refOf } from '@botvisor/core';
import { ProcessTracker, TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { accessPolicy, isLoopbackHost } from '../src/dashboard/access-policy.js';
import { createDashboard } from '../src/dashboard/dashboard.js';
import type { ChatPage, DashboardSession, DashboardState, LogTail } from '../src/dashboard/dashboard-types.js';
import type { SandboxChatPort } from '../src/dashboard/sandbox-chat-port.js';
import { EventStream, type StatusReport, Supervisor } from '../src/index.js';
import { actionPost, json, openSession, ownerCookie, request } from './fixtures/dashboard-http.js';
import { fixtureBot, install, newToken } from './support/installation.js';

const HELP_BOT = fileURLToPath(new URL('./fixtures/help-bot.js', import.meta.url));
const USER = { id: 1001, first_name: 'Ada' };
const FAST = { pingIntervalMs: 500, hungAfterMs: 5000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 100, stopGraceMs: 3000, scanIntervalMs: 200 };

/** Reads the first server-sent `state` event of /api/stream, then hangs up. */
function firstStreamState(base: string): Promise<{ contentType: string | undefined; state: DashboardState }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/api/stream`, (res) => {
      let buffered = '';
      res.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const frame = buffered.split('\n\n').find((f) => f.startsWith('event: state\n'));
        if (frame === undefined) return;
        req.destroy();
        resolve({ contentType: res.headers['content-type'], state: JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as DashboardState });
      });
    });
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
  });
}

describe('dashboard API (in-process supervisor, real forked bots against the simulator)', function () {
  this.timeout(120_000);
  const temp = new TempDirs();
  const tracker = new ProcessTracker();
  let sim: SimHandle;
  let supervisors: Supervisor[] = [];
  let servers: http.Server[] = [];
  let logger: Logger;

  async function startFleet(bots: object[], sandbox?: (token: string) => SandboxChatPort, sandboxToken?: string, historySampleMs?: number): Promise<{ sup: Supervisor; base: string }> {
    const inst = install(temp, sim, bots, FAST);
    const config = loadConfig(inst.configFile);
    logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' });
    const sup = await Supervisor.start({
      config,
      configFile: inst.configFile,
      logger,
      ...(sandbox !== undefined && sandboxToken !== undefined ? { sandbox: sandbox(sandboxToken) } : {}),
      ...(historySampleMs !== undefined ? { historySampleMs } : {}),
    });
    supervisors.push(sup);
    await sup.waitReady(30_000);
    return { sup, base: sup.http?.url as string };
  }

  const sandboxFor = (token: string): SandboxChatPort => new SimSandboxChat({ bot: sim.client.bot(token), user: USER, chatId: USER.id });

  beforeEach(async () => {
    sim = await startSim();
  });
  afterEach(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
    servers = [];
    for (const s of supervisors) await s.stop();
    supervisors = [];
    await tracker.killAll();
    await sim.close();
    temp.removeAll();
  });

  it('serves the page, the fleet as JSON and as a live stream, and each bot\'s log tail, without ever showing a token', async () => {
    const token = newToken();
    const other = newToken();
    const { sup, base } = await startFleet([{ name: 'bridge', module: HELP_BOT, token }, fixtureBot('helper', token), fixtureBot('worker', other)], sandboxFor, token);

    const page = await request(`${base}/`);
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.match(/^text\/html/);
    expect(page.headers['content-security-policy']).to.include("script-src 'self'");
    expect(page.text).to.include('<main');
    const script = await request(`${base}/assets/dashboard.js`);
    expect(script.status).to.equal(200);
    expect(script.headers['content-type']).to.match(/^text\/javascript/);
    expect((await request(`${base}/assets/../../package.json`)).status).to.equal(404);

    const reply = await request(`${base}/api/state`);
    expect(reply.status).to.equal(200);
    expect(reply.headers['content-type']).to.match(/^application\/json/);
    const state = json<DashboardState>(reply);
    expect(state.bots.map((b) => b.name)).to.deep.equal(['bridge', 'helper', 'worker']);
    for (const b of state.bots) {
      expect(b, b.name).to.include({ state: 'ready', restarts: 0 });
      expect(b.pid, b.name).to.be.a('number');
      expect(b.uptimeMs, b.name).to.be.a('number');
      expect(b.memoryBytes, b.name).to.be.above(10_000_000);
      expect(b.cpu, b.name).to.be.a('number');
      expect(b.children, b.name).to.deep.equal([]);
      expect(b.lastExit, b.name).to.equal(null);
    }
    expect(state.bots.find((b) => b.name === 'helper')?.polling).to.equal(false);
    expect(state.locks.map((l) => l.bot).sort()).to.deep.equal(['bridge', 'worker']);
    expect(state.locks[0]?.owner).to.include({ pid: process.pid, role: 'supervisor' });
    expect(state.events.filter((e) => e.kind === 'ready')).to.have.length(3);
    expect(Date.parse(state.events[0]?.at ?? '')).to.be.at.least(Date.parse(state.events.at(-1)?.at ?? ''));
    expect(state).to.include({ readOnly: false, sandbox: true });

    const stream = await firstStreamState(base);
    expect(stream.contentType).to.match(/^text\/event-stream/);
    expect(stream.state.bots.map((b) => b.state)).to.deep.equal(['ready', 'ready', 'ready']);

    const owner = { cookie: await ownerCookie(sup.dashboardLoginUrl()) };
    const tail = json<LogTail>(await request(`${base}/api/bots/bridge/log?lines=20`, { headers: owner }));
    expect(tail.exists).to.equal(true);
    expect(tail.lines.length).to.be.within(1, 20);
    expect(tail.lines.every((l) => typeof l.msg === 'string')).to.equal(true);
    expect(tail.lines.some((l) => l.level !== null && l.ts !== null)).to.equal(true);

    const session = json<DashboardSession>(await request(`${base}/api/session`));
    expect(session.sandbox).to.deep.equal({ bot: 'bridge', user: USER, chatId: USER.id });

    const secret = (t: string) => t.split(':')[1] as string;
    for (const text of [reply.text, JSON.stringify(stream.state), JSON.stringify(tail), JSON.stringify(session), page.text]) {
      expect(text).to.not.include(secret(token));
      expect(text).to.not.include(secret(other));
    }
    expect((await request(`${base}/api/bots/nobody/log`, { headers: owner })).status).to.equal(404);
    expect((await request(`${base}/api/nothing`)).status).to.equal(404);
  });

  it('refuses cross-site actions (no token, a wrong token, a foreign Origin or Referer, no Origin at all, a foreign Host) and carries out the page\'s own', async () => {
    const { sup, base } = await startFleet([fixtureBot('main', newToken())]);
    const s = await openSession(base, sup.dashboardLoginUrl());
    const restart = '/api/bots/main/restart';

    const refusals: Array<[string, Parameters<typeof actionPost>[3], RegExp]> = [
      ['no CSRF header', { omit: ['x-botvisor-csrf'] }, /session token/],
      ['no session cookie (the owner cookie only)', { headers: { cookie: s.cookie.split('; ')[1] as string } }, /session token/],
      ['no owner cookie (the session cookie only)', { headers: { cookie: s.cookie.split('; ')[0] as string } }, /only the owner may act/],
      ['a wrong token', { headers: { 'x-botvisor-csrf': 'A'.repeat(43) } }, /does not match/],
      ['a token of another session', { headers: { 'x-botvisor-csrf': (await openSession(base)).token } }, /does not match/],
      ['a foreign Origin', { headers: { origin: 'http://evil.example' } }, /cross-site request from http:\/\/evil\.example/],
      ['a foreign Referer and no Origin', { omit: ['origin'], headers: { referer: 'http://evil.example/attack.html' } }, /cross-site/],
      ['neither Origin nor Referer', { omit: ['origin'] }, /no Origin or Referer/],
      ['Origin "null" (a sandboxed frame)', { headers: { origin: 'null' } }, /cross-site/],
      ['a foreign Host (DNS rebinding)', { headers: { host: 'evil.example', origin: 'http://evil.example' } }, /only to a loopback address/],
    ];
    for (const [what, options, message] of refusals) {
      const reply = await actionPost(base, restart, s, options);
      expect(reply.status, what).to.equal(403);
      expect(json<{ error: string }>(reply).error, what).to.match(message);
    }
    // Reading is refused under a foreign Host too: a rebinding page must not read the fleet.
    expect((await request(`${base}/api/state`, { headers: { host: 'evil.example:80' } })).status).to.equal(403);
    expect((await request(`${base}/`, { headers: { host: 'evil.example' } })).status).to.equal(403);
    expect(sup.bots.get('main')?.restarts, 'no refused request restarted the bot').to.equal(0);

    // Wrong method, unknown bot.
    expect((await request(`${base}${restart}`)).status).to.equal(405);
    expect((await actionPost(base, '/api/bots/nobody/restart', s)).status).to.equal(404);

    // The page's own request, with `localhost` as the host and the Referer alone also fine.
    const pid = sup.bots.get('main')?.pid;
    const ok = await actionPost(base, restart, s, { omit: ['origin'], headers: { referer: `${s.origin}/` } });
    expect(ok.status, ok.text).to.equal(200);
    expect(json<{ restarted: string }>(ok)).to.deep.equal({ restarted: 'main' });
    const state = json<DashboardState>(await request(`${base}/api/state`));
    expect(state.bots[0]).to.include({ state: 'ready', restarts: 1 });
    expect(state.bots[0]?.pid).to.not.equal(pid);
    // A ready polling bot is restarted by a hand-over: the token is never left without a poller.
    expect(sup.events.recent().some((e) => e.kind === 'reloaded' && e.bot === 'main' && e.message.includes('restart requested for main'))).to.equal(true);
    const asLocalhost = { host: `localhost:${new URL(base).port}` };
    const sessionReply = await request(`${base}/api/session`, { headers: asLocalhost });
    const localOwner = await ownerCookie(sup.dashboardLoginUrl()?.replace('127.0.0.1', 'localhost'));
    const local = { cookie: `${String(sessionReply.headers['set-cookie']?.[0]?.split(';')[0])}; ${localOwner}`, token: json<DashboardSession>(sessionReply).csrfToken, origin: `http://${asLocalhost.host}`, readOnly: false };
    const viaLocalhost = await actionPost(base, restart, local, { headers: asLocalhost });
    expect(viaLocalhost.status, viaLocalhost.text).to.equal(200);
    expect(sup.bots.get('main')?.restarts).to.equal(2);
  });

  it('stops one CLI child of a bot by PID (its tree, not the bot), and refuses a PID that is not its child', async () => {
    const token = newToken();
    const { sup, base } = await startFleet([{ name: 'main', module: HELP_BOT, token }]);
    const { cursor } = sim.users.sendCommand(token, { user: USER, command: 'job' });
    const reply = await sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: '^job pid' });
    const jobPid = Number(reply.text?.split(' ')[2]);
    const jobRef = refOf(jobPid);
    if (jobRef === undefined) throw new Error('the job is not running');
    tracker.adopt(jobRef);
    const state = await waitFor(async () => {
      const s = json<DashboardState>(await request(`${base}/api/state`));
      return s.bots[0]?.children.some((c) => c.pid === jobPid) ? s : undefined;
    }, { timeoutMs: 10_000, what: 'the job to show as a child of main' });
    expect(state.bots[0]?.children.find((c) => c.pid === jobPid)).to.deep.equal({ pid: jobPid, parentPid: null, command: 'sleep' });

    const s = await openSession(base, sup.dashboardLoginUrl());
    expect((await actionPost(base, `/api/bots/main/children/${process.pid}/stop`, s)).status, 'the test process is no child of main').to.equal(404);
    expect((await actionPost(base, `/api/bots/main/children/${sup.bots.get('main')?.pid}/stop`, s)).status, 'the bot itself is no child').to.equal(404);
    expect((await actionPost(base, '/api/bots/main/children/abc/stop', s)).status).to.equal(400);
    expect((await actionPost(base, `/api/bots/main/children/${jobPid}/stop`, s, { omit: ['x-botvisor-csrf'] })).status).to.equal(403);
    expect(isAlive(jobRef)).to.equal(true);

    const stopped = await actionPost(base, `/api/bots/main/children/${jobPid}/stop`, s);
    expect(stopped.status, stopped.text).to.equal(200);
    expect(json<{ stopped: { pid: number; command: string }; survivors: unknown[] }>(stopped)).to.deep.include({ stopped: { pid: jobPid, command: 'sleep' }, survivors: [] });
    expect(isAlive(jobRef)).to.equal(false);
    await waitFor(async () => json<DashboardState>(await request(`${base}/api/state`)).bots[0]?.children.length === 0, { what: 'the stopped job to leave the children list' });
    expect(sup.bots.get('main')).to.include({ state: 'ready', restarts: 0 });
  });

  it('sandbox chat: says things as the sim user and long-polls the bot\'s reply and edit; bad input is refused; no sandbox, no chat', async () => {
    const token = newToken();
    const { sup, base } = await startFleet([{ name: 'bridge', module: HELP_BOT, token }], sandboxFor, token);
    const s = await openSession(base, sup.dashboardLoginUrl());

    // Nobody wrote yet: an empty page, and a long poll that a send from here wakes.
    const empty = json<ChatPage>(await request(`${base}/api/chat`));
    expect(empty).to.deep.equal({ items: [], cursor: 0, userCursor: 0 });
    const waiting = request(`${base}/api/chat?after=0&userAfter=0&waitMs=20000`);
    const sent = await actionPost(base, '/api/chat', s, { body: { text: '/help' } });
    expect(sent.status, sent.text).to.equal(200);
    expect(json<{ item: { id: string; from: string; text: string } }>(sent).item).to.include({ id: 'u1', from: 'user', text: '/help' });
    const woke = json<ChatPage>(await waiting);
    expect(woke.items[0]).to.include({ id: 'u1', from: 'user' });

    // The reply arrives through the long poll.
    const reply = await waitFor(async () => {
      const p = json<ChatPage>(await request(`${base}/api/chat?after=0&userAfter=0&waitMs=5000`));
      return p.items.some((i) => i.from === 'bot') ? p : undefined;
    }, { timeoutMs: 20_000, what: 'the bot to answer /help' });
    expect(reply.items.map((i) => i.from)).to.deep.equal(['user', 'bot']);
    expect(reply.items[1]?.text).to.match(/^Commands:\n\/help/);

    // An edit is its own item naming the message it changes.
    await actionPost(base, '/api/chat', s, { body: { text: '/edit' } });
    const edited = await waitFor(async () => {
      const p = json<ChatPage>(await request(`${base}/api/chat?after=${reply.cursor}&userAfter=1&waitMs=5000`));
      return p.items.find((i) => i.kind === 'edited') !== undefined ? p : undefined;
    }, { timeoutMs: 20_000, what: 'the bot to edit its message' });
    const original = edited.items.find((i) => i.kind === 'message' && i.from === 'bot');
    const edit = edited.items.find((i) => i.kind === 'edited');
    expect(original?.text).to.equal('working…');
    expect(edit).to.include({ text: 'done: edited once', messageId: original?.messageId });

    for (const [body, status] of [[{ text: '' }, 400], [{ text: 'x'.repeat(4097) }, 400], [{}, 400]] as const) {
      expect((await actionPost(base, '/api/chat', s, { body })).status, JSON.stringify(body).slice(0, 40)).to.equal(status);
    }
    expect((await actionPost(base, '/api/chat', s, { body: { text: 'hi' }, headers: { 'content-type': 'text/plain' } })).status).to.equal(415);
    expect((await actionPost(base, '/api/chat', s, { body: { text: 'x'.repeat(20_000) } })).status).to.equal(413);
    expect((await actionPost(base, '/api/chat', s, { body: { text: 'hi' }, omit: ['x-botvisor-csrf'] })).status).to.equal(403);
    expect((await request(`${base}/api/chat?after=-1`)).status).to.equal(400);

    await supervisors.pop()?.stop();
    const plain = await startFleet([fixtureBot('main', newToken())]);
    expect((await request(`${plain.base}/api/chat`)).status).to.equal(404);
    expect(json<DashboardSession>(await request(`${plain.base}/api/session`)).sandbox).to.equal(null);
  });

  it('stops and starts one bot (the others untouched), and /api/history holds each bot\'s samples', async () => {
    const { sup, base } = await startFleet([fixtureBot('main', newToken()), fixtureBot('other', newToken())], undefined, undefined, 200);
    // Actions are the owner's: the page is opened through the one-time login link.
    const s = await openSession(base, sup.dashboardLoginUrl());
    const stopped = await actionPost(base, '/api/bots/main/stop', s);
    expect(stopped.status, stopped.text).to.equal(200);
    expect(json(stopped)).to.deep.equal({ stopped: 'main' });
    expect(sup.bots.get('main')?.state).to.equal('stopped');
    expect(sup.bots.get('other')?.state).to.equal('ready');
    const started = await actionPost(base, '/api/bots/main/start', s);
    expect(started.status, started.text).to.equal(200);
    expect(sup.bots.get('main')?.state).to.equal('ready');
    expect((await actionPost(base, '/api/bots/nobody/stop', s)).status).to.equal(404);

    type History = { sampleMs: number; keep: number; bots: Record<string, { t: number[]; rssBytes: Array<number | null>; restarts: number[]; problem: number[] }> };
    const history = await waitFor(
      async () => {
        const h = json<History>(await request(`${base}/api/history`));
        return (h.bots.main?.t.length ?? 0) >= 3 && (h.bots.other?.rssBytes.filter((v) => v !== null).length ?? 0) >= 3 ? h : undefined;
      },
      { timeoutMs: 10_000, what: 'three samples of each bot' },
    );
    expect(history).to.include({ sampleMs: 200, keep: 360 });
    expect(history.bots.other?.rssBytes.at(-1)).to.be.above(10_000_000);
    expect(history.bots.other?.problem.every((p) => p === 0)).to.equal(true);
  });

  it('sandbox chat through its port: names the bot by token hash, caps the wait, hands on only checked text, and a failing port is a redacted 502', async () => {
    const leaked = '123456:AAHsecret_token_that_must_never_show_1234';
    const calls: string[] = [];
    let failing = false;
    const port: SandboxChatPort = {
      user: USER,
      chatId: USER.id,
      botTokenHash: 'aaaaaaaaaaaaaaaa',
      send: async (text) => {
        calls.push(`send ${text}`);
        if (failing) throw new Error(`the simulator refused: no bot ${leaked}`);
        return { item: { id: 'u1', from: 'user', kind: 'message', messageId: 1, text, at: new Date(0).toISOString(), buttons: [], keys: [] }, userCursor: 1 };
      },
      tap: async (messageId, data) => {
        calls.push(`tap ${messageId} ${data}`);
      },
      page: async (after, userAfter, waitMs) => {
        calls.push(`page ${after} ${userAfter} ${waitMs}`);
        if (failing) throw new Error(`the simulator did not answer: fetch ${leaked} failed`);
        return { items: [], cursor: after, userCursor: userAfter };
      },
    };
    const quiet = createLogger({ proc: 'dashboard-test', console: 'never' });
    const report: StatusReport = { supervisor: { pid: process.pid, uptimeMs: 1000, startedAt: new Date().toISOString(), dataDir: '/data', httpUrl: null, locks: [], configFile: '/data/botvisor.json', configHash: null }, bots: [] };
    const dashboard = createDashboard({
      fleet: { status: async () => report, events: new EventStream(quiet), restart: async () => undefined, stopBot: async () => undefined, startBot: async () => undefined, children: () => [] },
      bots: [
        { name: 'alerts', tokenHash: 'aaaaaaaaaaaaaaaa', polling: false },
        { name: 'bridge', tokenHash: 'aaaaaaaaaaaaaaaa', polling: true },
      ],
      http: { host: '127.0.0.1' },
      logDir: temp.make('botvisor-dash-logs-'),
      sandbox: port,
      logger: quiet,
    });
    const server = http.createServer((req, res) => void dashboard.handle(req, res));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const s = await openSession(base, dashboard.loginUrl(base));
    expect(json<DashboardSession>(await request(`${base}/api/session`)).sandbox).to.deep.equal({ bot: 'bridge', user: USER, chatId: USER.id });
    expect(json<ChatPage>(await request(`${base}/api/chat?after=3&userAfter=2&waitMs=600000`))).to.deep.equal({ items: [], cursor: 3, userCursor: 2 });
    expect((await actionPost(base, '/api/chat', s, { body: { text: '  ' } })).status).to.equal(400);
    expect((await actionPost(base, '/api/chat', s, { body: { text: 'hi' } })).status).to.equal(200);
    expect((await actionPost(base, '/api/chat/tap', s, { body: { messageId: 7, data: 'job:stop:3' } })).status).to.equal(200);
    expect((await actionPost(base, '/api/chat/tap', s, { body: { messageId: 'x', data: 'a' } })).status).to.equal(400);
    expect((await actionPost(base, '/api/chat/tap', s, { body: { messageId: 7, data: 'a' }, omit: ['x-botvisor-csrf'] })).status, 'a tap is an action: the session token is required').to.equal(403);
    expect(calls).to.deep.equal(['page 3 2 25000', 'send hi', 'tap 7 job:stop:3']);

    failing = true;
    for (const reply of [await actionPost(base, '/api/chat', s, { body: { text: 'hi' } }), await request(`${base}/api/chat`)]) {
      expect(reply.status).to.equal(502);
      expect(json<{ error: string }>(reply).error).to.match(/^the simulator (refused|did not answer): .*123456:<redacted>/);
      expect(reply.text).not.to.include('secret_token');
    }
  });

  it('is read-only when bound beyond loopback without a bearer token: the page can read, every action is refused', async () => {
    expect(accessPolicy({ host: '0.0.0.0' })).to.include({ readOnly: true, loopbackHostsOnly: false });
    expect(accessPolicy({ host: '0.0.0.0', authToken: 'x'.repeat(16) })).to.include({ readOnly: false });
    expect(accessPolicy({ host: '127.0.0.1' })).to.include({ readOnly: false, loopbackHostsOnly: true });
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) expect(isLoopbackHost(h), h).to.equal(true);
    for (const h of ['0.0.0.0', '10.0.0.1', 'example.com', '::', 'localhost.evil.example']) expect(isLoopbackHost(h), h).to.equal(false);

    // The dashboard alone, told it is bound to 0.0.0.0, actually listening on 127.0.0.1 (tests never bind beyond loopback).
    const report: StatusReport = { supervisor: { pid: process.pid, uptimeMs: 1000, startedAt: new Date().toISOString(), dataDir: '/data', httpUrl: null, locks: [], configFile: '/data/botvisor.json', configHash: null }, bots: [] };
    let restarts = 0;
    const quiet = createLogger({ proc: 'dashboard-test', console: 'never' });
    const dashboard = createDashboard({
      fleet: { status: async () => report, events: new EventStream(quiet), restart: async () => void restarts++, stopBot: async () => void restarts++, startBot: async () => void restarts++, children: () => [] },
      bots: [{ name: 'main', tokenHash: '0000000000000000', polling: true }],
      http: { host: '0.0.0.0' },
      logDir: temp.make('botvisor-dash-logs-'),
      logger: quiet,
    });
    const server = http.createServer((req, res) => {
      void dashboard.handle(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const s = await openSession(base);
    expect(s.readOnly).to.equal(true);
    expect(json<DashboardState>(await request(`${base}/api/state`)).readOnly).to.equal(true);
    const refused = await actionPost(base, '/api/bots/main/restart', s);
    expect(refused.status).to.equal(403);
    expect(json<{ error: string; code: string }>(refused)).to.deep.include({ code: 'read-only' });
    expect(json<{ error: string }>(refused).error).to.match(/listens on 0\.0\.0\.0, beyond loopback, without a bearer token/);
    expect((await actionPost(base, '/api/bots/main/children/1/stop', s)).status).to.equal(403);
    expect((await actionPost(base, '/api/bots/main/stop', s)).status, 'per-bot stop is an action too').to.equal(403);
    expect((await actionPost(base, '/api/bots/main/start', s)).status).to.equal(403);
    expect(restarts).to.equal(0);
    expect((await request(`${base}/api/bots/main/log`)).status, 'a bot that never logged').to.equal(200);
  });
});
