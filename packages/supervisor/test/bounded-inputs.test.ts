import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAlive, refOf } from '@botvisor/core';
import { exited, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { controlRequest, controlSocketPath, MAX_SOCKET_PATH_BYTES, type StatusReport } from '../src/index.js';
import { DAEMON, fixtureBot, type Installation, install, newToken } from './support/installation.js';

const USER = { id: 1001, first_name: 'Ada' };
const NOISY_BOT = fileURLToPath(new URL('./fixtures/noisy-bot.js', import.meta.url));
const INJECT_FAULT = pathToFileURL(fileURLToPath(new URL('./fixtures/inject-fault.js', import.meta.url))).href;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

function logText(logDir: string): string {
  return readdirSync(logDir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => readFileSync(path.join(logDir, f), 'utf8'))
    .join('\n');
}

describe('supervisor daemon: bounded inputs and last resort', function () {
  this.timeout(180_000);
  const bed = useTestbed();

  function daemon(inst: Installation, nodeArgs: string[] = [], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; stderr: () => string } {
    const child = bed.tracker.spawn(process.execPath, [...nodeArgs, DAEMON, '--config', inst.configFile], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    return { child, stderr: () => err };
  }

  async function ready(inst: Installation): Promise<StatusReport> {
    return waitFor(
      async () => {
        const report = await controlRequest<StatusReport>(controlSocketPath(inst.dataDir), { cmd: 'status' }, 5000).catch(() => undefined);
        return report?.bots.every((b) => b.state === 'ready') === true ? report : undefined;
      },
      { timeoutMs: 30_000, what: 'every bot to be ready' },
    );
  }

  it('a bot printing 60 MB without a newline: the supervisor stays small, /health stays fast, long lines are cut', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('noisy', token, { module: NOISY_BOT })], { stopGraceMs: 2000 });
    const d = daemon(inst);
    const report = await ready(inst);
    const pid = d.child.pid as number;
    const baseline = rssBytes(pid);
    let peak = baseline;
    let slowestHealthMs = 0;
    let flooding = true;
    const watcher = (async () => {
      while (flooding) {
        const t = performance.now();
        await fetch(`${report.supervisor.httpUrl}/health`).then((r) => r.text());
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - t);
        peak = Math.max(peak, rssBytes(pid));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'flood', args: '60' });
    try {
      await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, pattern: '^flooded$', timeoutMs: 120_000 });
      // The supervisor reads what the bot wrote before the reply; give the last chunks a moment.
      await waitFor(() => logText(inst.logDir).includes('last line'), { timeoutMs: 20_000, what: 'the line after the flood in the log' });
    } finally {
      flooding = false;
      await watcher;
    }
    expect(peak - baseline, `RSS grew from ${baseline >> 20} MB to ${peak >> 20} MB`).to.be.below(120 * 1024 * 1024);
    expect(slowestHealthMs).to.be.below(1500);
    const log = logText(inst.logDir);
    expect(log).to.include('progress 00004095/4096'); // the last frame a terminal would show, at the newline
    expect(log).to.include('[line cut: longer than 65536 characters]');
    expect(log).not.to.include('x'.repeat(65_537));
    d.child.kill('SIGTERM');
    expect(await exited(d.child)).to.equal(0);
  });

  it('a control client that pipelines requests and never reads is dropped; the supervisor stays small and answers others', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], { stopGraceMs: 2000 });
    const d = daemon(inst);
    await ready(inst);
    const pid = d.child.pid as number;
    const baseline = rssBytes(pid);
    const conn = net.connect(controlSocketPath(inst.dataDir));
    conn.pause(); // never read a reply
    let closed = false;
    conn.on('error', () => undefined);
    conn.on('close', () => {
      closed = true;
    });
    await new Promise((r) => conn.once('connect', r));
    const batch = Array.from({ length: 1000 }, (_, i) => `${JSON.stringify({ v: 1, id: i, cmd: 'ping' })}\n`).join('');
    const deadline = Date.now() + 20_000;
    let sent = 0;
    while (!closed && Date.now() < deadline) {
      if (!conn.write(batch)) await new Promise((r) => setTimeout(r, 5));
      sent += 1000;
      if (sent % 20_000 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(closed, `the connection is still open after ${sent} requests`).to.equal(true);
    expect(rssBytes(pid) - baseline).to.be.below(100 * 1024 * 1024);
    expect(await controlRequest<{ pong: boolean }>(controlSocketPath(inst.dataDir), { cmd: 'ping' })).to.include({ pong: true });
    expect(readFileSync(path.join(inst.logDir, 'supervisor.log'), 'utf8')).to.include('dropped a control connection that sent requests without reading the replies');
    d.child.kill('SIGTERM');
    expect(await exited(d.child)).to.equal(0);
  });

  for (const fault of ['exception', 'rejection'] as const) {
    it(`an uncaught ${fault} in the supervisor: logged, every bot stopped, exit 1`, async () => {
      const token = newToken();
      const inst = install(bed.temp, bed.sim, [fixtureBot('main', token), fixtureBot('helper', token)], { stopGraceMs: 2000 });
      const d = daemon(inst, ['--import', INJECT_FAULT], { ...process.env, INJECT_FAULT: fault });
      const report = await ready(inst);
      const bots = report.bots.map((b) => refOf(b.pid as number));
      d.child.kill('SIGUSR2');
      expect(await exited(d.child)).to.equal(1);
      for (const b of bots) expect(b !== undefined && isAlive(b), `bot pid ${b?.pid} outlived its supervisor`).to.equal(false);
      const log = readFileSync(path.join(inst.logDir, 'supervisor.log'), 'utf8');
      expect(log).to.include('uncaught error in the supervisor; stopping every bot and exiting');
      expect(log).to.include(`injected ${fault}`);
      expect(log).to.match(/"msg":"stopped"/);
      expect(d.stderr()).to.include(`injected ${fault}`);
      expect(existsSync(path.join(inst.dataDir, 'supervisor', 'supervisor.lock'))).to.equal(false);
    });
  }

  it('a data dir too deep for a socket path: the socket moves to a short path the CLI finds, and is gone after stop', async () => {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], { stopGraceMs: 2000 });
    const deep = path.join(inst.dir, 'volumes', 'a-rather-long-docker-volume-name-0123456789abcdef', '_data', 'botvisor', 'state-of-the-bots');
    const raw = JSON.parse(readFileSync(inst.configFile, 'utf8')) as object;
    writeFileSync(inst.configFile, JSON.stringify({ ...raw, dataDir: deep }));
    expect(Buffer.byteLength(path.join(deep, 'supervisor.sock'))).to.be.above(MAX_SOCKET_PATH_BYTES);
    const d = daemon({ ...inst, dataDir: deep });
    const report = await ready({ ...inst, dataDir: deep });
    const socket = controlSocketPath(deep);
    expect(Buffer.byteLength(socket)).to.be.at.most(MAX_SOCKET_PATH_BYTES);
    expect(existsSync(socket)).to.equal(true);
    expect(existsSync(path.join(deep, 'supervisor.sock'))).to.equal(false);
    expect(report.supervisor.dataDir).to.equal(deep);
    d.child.kill('SIGTERM');
    expect(await exited(d.child)).to.equal(0);
    expect(existsSync(socket), 'the short socket is removed at stop').to.equal(false);
    expect(d.stderr()).not.to.match(/ENOENT|Error|at /);
  });
});
