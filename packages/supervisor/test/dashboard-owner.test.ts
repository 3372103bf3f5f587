/**
 * Issue 15 item 3 with a real second Unix user: on loopback without a bearer token, another local
 * user reaches the dashboard's port and gets a session token from the page like anyone, yet can
 * neither restart a bot nor read its log nor open the control socket; the owner can, after opening
 * the one-time link the control socket hands out. `/health` and `/metrics` answer only to a
 * loopback Host name. The user is created for the test and removed after.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createLogger, loadConfig } from '@botvisor/core';
import { useTestbed } from '@botvisor/testkit';
import { expect } from 'chai';
import { controlSocketPath, Supervisor } from '../src/index.js';
import { actionPost, json, openSession, request } from './fixtures/dashboard-http.js';
import { fixtureBot, install, newToken } from './support/installation.js';

const USERADD = ['/usr/sbin/useradd', '/sbin/useradd', '/usr/bin/useradd'].find((p) => existsSync(p));

/** Run by the other user: take a session as the page does, then try every owner-only thing. */
const INTRUDER = `
import net from 'node:net';
const base = process.env.BASE;
const s = await fetch(base + '/api/session');
const cookie = s.headers.get('set-cookie').split(';')[0];
const session = await s.json();
const r = await fetch(base + '/api/bots/main/restart', { method: 'POST', headers: { origin: base, cookie, 'x-botvisor-csrf': session.csrfToken } });
const log = await fetch(base + '/api/bots/main/log', { headers: { cookie } });
const socket = await new Promise((resolve) => {
  const c = net.connect(process.env.SOCKET);
  c.on('connect', () => { c.end(); resolve('connected'); });
  c.on('error', (e) => resolve(e.code));
});
console.log(JSON.stringify({ readOnly: session.readOnly, restart: r.status, restartBody: await r.json(), log: log.status, socket }));
`;

describe('dashboard owner proof against a second local user (real processes)', function () {
  this.timeout(120_000);
  const bed = useTestbed();

  it('another Unix user can reach the port but cannot restart, read logs or use the socket; the owner can after the one-time link', async function () {
    if (USERADD === undefined || process.getuid?.() !== 0) this.skip(); // needs root and useradd to make the second user
    const user = `bv${randomBytes(4).toString('hex')}`;
    const made = spawnSync(USERADD as string, ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user], { encoding: 'utf8' });
    expect(made.status, made.stderr).to.equal(0);
    bed.onCleanup(() => void spawnSync('userdel', [user]));

    const inst = install(bed.temp, bed.sim, [fixtureBot('main', newToken())], { stopGraceMs: 2000, pingIntervalMs: 500 });
    const config = loadConfig(inst.configFile);
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger: createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' }) });
    bed.onCleanup(() => sup.stop());
    await sup.waitReady(30_000);
    const base = sup.http?.url as string;

    // Asynchronously: the supervisor under test lives in this process and must go on answering.
    const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile('runuser', ['-u', user, '--', process.execPath, '--input-type=module', '-e', INTRUDER], { cwd: '/', env: { PATH: process.env.PATH, BASE: base, SOCKET: controlSocketPath(config.dataDir) }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }),
      );
    });
    expect(run.status, run.stderr).to.equal(0);
    const seen = JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as { readOnly: boolean; restart: number; restartBody: { code?: string }; log: number; socket: string };
    expect(seen.readOnly, 'the page is read-only for a browser without the owner cookie').to.equal(true);
    expect(seen.restart).to.equal(403);
    expect(seen.restartBody.code).to.equal('owner');
    expect(seen.log).to.equal(403);
    expect(seen.socket).to.be.oneOf(['EACCES', 'ENOENT']);
    expect(sup.bots.get('main')?.restarts, 'the intruder restarted nothing').to.equal(0);

    // The owner: the control socket's one-time link, then the same actions work.
    const link = sup.dashboardLoginUrl() as string;
    const s = await openSession(base, link);
    expect(s.readOnly).to.equal(false);
    const restarted = await actionPost(base, '/api/bots/main/restart', s);
    expect(restarted.status, restarted.text).to.equal(200);
    expect((await request(`${base}/api/bots/main/log`, { headers: { cookie: s.cookie } })).status).to.equal(200);
    expect((await request(link)).status, 'a link is good once').to.equal(403);

    // Monitoring answers only to loopback names (DNS rebinding).
    const port = new URL(base).port;
    for (const p of ['/health', '/metrics']) {
      expect((await request(`${base}${p}`)).status, p).to.equal(200);
      const rebound = await request(`${base}${p}`, { headers: { host: `rebind.example:${port}` } });
      expect(rebound.status, p).to.equal(403);
      expect(json<{ error: string }>(rebound).error).to.include('loopback');
    }
  });
});
