/**
 * The offline sandbox as a user meets it: `botvisor start` with no config in a fresh folder (what
 * `npm start` runs after building) reaches "all bots ready", the bridge answers the simulated
 * user, the other commands find the running sandbox, and Ctrl-C ends every process of its tree.
 * Real processes, ports 0, a temp folder as the cwd.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { SimClient } from '@botvisor/bot-api-sim';
import { descendants, isAlive } from '@botvisor/core';
import type { StatusReport } from '@botvisor/supervisor';
import { exited, ProcessTracker, TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import type { SandboxInfo } from '../src/sandbox/sandbox-info.js';
import { runCli, sandboxEnv, startCli } from './fixtures/cli-process.js';

/** A port something else holds, released by the returned function. */
async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { port, release: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('sandbox: botvisor start with no config (real processes)', function () {
  this.timeout(120_000);
  const temp = new TempDirs();
  const tracker = new ProcessTracker();
  afterEach(async () => {
    await tracker.killAll();
    temp.removeAll();
  });

  it('reaches "all bots ready", the bridge answers, status finds it, and Ctrl-C exits 0 leaving no process', async () => {
    const cwd = temp.make('botvisor-sandbox-');
    const env = sandboxEnv();
    const sandbox = startCli(tracker, ['start'], { cwd, env });
    await sandbox.waitFor(/^all bots ready$/m, 90_000);
    const banner = await sandbox.waitFor(/Ctrl-C stops everything\./);
    expect(banner).to.match(/bots {7}bridge {2}ready/).and.match(/alerts {2}ready/).and.include('npx botvisor chat').and.include('npm start -- -c botvisor.json');

    // The default folder is <cwd>/data/sandbox; its info file says where everything is.
    const dir = path.join(cwd, 'data', 'sandbox');
    const info = JSON.parse(readFileSync(path.join(dir, 'sandbox.json'), 'utf8')) as SandboxInfo;
    expect(info.pid).to.equal(sandbox.child.pid);
    expect(banner).to.include(info.simUrl).and.include(`${info.httpUrl}/`);
    expect(existsSync(path.join(dir, 'logs', 'supervisor.log'))).to.equal(true);

    // The simulator answers, and the bridge talks to the sandbox user.
    const bot = new SimClient(info.simUrl).bot(info.token);
    const { cursor } = await bot.sendCommand({ command: 'help', user: info.user });
    const help = await bot.waitForMessage(info.chatId, { after: cursor, pattern: /\/counter/, timeoutMs: 30_000 });
    expect(help.text).to.include('/sleep <secs>').and.include('/bigoutput');
    expect((await fetch(`${info.httpUrl}/health`)).status).to.equal(200);
    // The dashboard is in sandbox mode: its chat panel talks to the bridge as the sandbox user.
    const session = (await (await fetch(`${info.httpUrl}/api/session`)).json()) as { sandbox: { bot: string | null; user: { id: number }; chatId: number } | null };
    expect(session.sandbox).to.deep.equal({ bot: 'bridge', user: { id: info.user.id, first_name: info.user.first_name }, chatId: info.chatId });
    const chat = (await (await fetch(`${info.httpUrl}/api/chat`)).json()) as { items: Array<{ from: string; text: string }> };
    expect(chat.items.filter((i) => i.from === 'bot').map((i) => i.text)).to.include(help.text);

    // Another command in the same folder, with no config, finds the sandbox; a second sandbox is refused.
    const status = await runCli(tracker, ['status', '--json'], { cwd, env });
    expect(status.code, status.stderr).to.equal(0);
    const report = JSON.parse(status.stdout) as StatusReport;
    expect(report.supervisor.pid).to.equal(sandbox.child.pid);
    expect(report.bots.map((b) => [b.name, b.state])).to.deep.equal([['bridge', 'ready'], ['alerts', 'ready']]);
    const second = await runCli(tracker, ['start'], { cwd, env });
    expect(second.code).to.equal(1);
    expect(second.stderr).to.equal(`botvisor: a sandbox is already running in ${dir} (pid ${sandbox.child.pid}); talk to it with: npx botvisor chat, or stop it with Ctrl-C in its terminal\n`);

    // A job runs, so Ctrl-C has a grandchild to clean up too.
    await bot.sendCommand({ command: 'sleep', args: '100', user: info.user });
    const pid = sandbox.child.pid as number;
    const tree = await waitFor(() => {
      const t = descendants(pid);
      return t.some((p) => p.command === 'sleep') ? t : undefined;
    }, { timeoutMs: 30_000, what: 'the sleep job under the sandbox' });
    expect(tree.length).to.be.at.least(3); // bridge, alerts, sleep

    sandbox.child.kill('SIGINT');
    expect(await exited(sandbox.child)).to.equal(0);
    expect(sandbox.output()).to.match(/stopping \(Ctrl-C\)…\nstopped\n$/);
    for (const p of tree) expect(isAlive(p), `${p.command} (pid ${p.pid}) left running`).to.equal(false);
    expect(existsSync(path.join(dir, 'sandbox.json'))).to.equal(false);

    const after = await runCli(tracker, ['status'], { cwd, env });
    expect(after.code).to.equal(3);
    expect(after.stderr).to.equal(`botvisor: the sandbox (${path.join(dir, 'botvisor.json')}) is not running; start it with: npm start (or botvisor start with no config)\n`);
  });

  it('a second start numbers updates on from the first: the bridge answers at once, with no ids going back (issue 14)', async () => {
    const cwd = temp.make('botvisor-sandbox-');
    const env = sandboxEnv();
    const dir = path.join(cwd, 'data', 'sandbox');
    const help = async (): Promise<number> => {
      const info = JSON.parse(readFileSync(path.join(dir, 'sandbox.json'), 'utf8')) as SandboxInfo;
      const bot = new SimClient(info.simUrl).bot(info.token);
      const { cursor, update_id } = await bot.sendCommand({ command: 'help', user: info.user });
      await bot.waitForMessage(info.chatId, { after: cursor, pattern: /\/counter/, timeoutMs: 30_000 });
      return update_id as number;
    };
    let sandbox = startCli(tracker, ['start'], { cwd, env });
    await sandbox.waitFor(/^all bots ready$/m, 90_000);
    const firstRun = [await help(), await help(), await help()];
    sandbox.child.kill('SIGINT');
    expect(await exited(sandbox.child)).to.equal(0);

    sandbox = startCli(tracker, ['start'], { cwd, env });
    await sandbox.waitFor(/^all bots ready$/m, 90_000);
    const next = await help();
    expect(next, 'the restarted simulator goes on past the stored offset').to.be.above(Math.max(...firstRun));
    const bridgeLog = readFileSync(path.join(dir, 'logs', 'bridge.log'), 'utf8');
    expect(bridgeLog).to.not.include('update ids went back');
    sandbox.child.kill('SIGINT');
    expect(await exited(sandbox.child)).to.equal(0);
  });

  it('a port in use is one sentence naming the variable to change, and nothing is left running', async () => {
    const cwd = temp.make('botvisor-sandbox-');
    const held = await holdPort();
    try {
      const sim = await runCli(tracker, ['start'], { cwd, env: sandboxEnv({ BOTVISOR_SANDBOX_SIM_PORT: String(held.port) }) });
      expect(sim.code).to.equal(1);
      expect(sim.stderr).to.equal(`botvisor: port ${held.port} on 127.0.0.1 (the Bot API simulator) is already in use; stop whatever uses it, or set BOTVISOR_SANDBOX_SIM_PORT to another port (0 picks a free one)\n`);
      const http = await runCli(tracker, ['start'], { cwd, env: sandboxEnv({ BOTVISOR_SANDBOX_HTTP_PORT: String(held.port) }) });
      expect(http.code).to.equal(1);
      expect(http.stderr).to.equal(`botvisor: port ${held.port} on 127.0.0.1 (the dashboard) is already in use; stop whatever uses it, or set BOTVISOR_SANDBOX_HTTP_PORT to another port (0 picks a free one)\n`);
      expect(existsSync(path.join(cwd, 'data', 'sandbox', 'sandbox.json'))).to.equal(false);
    } finally {
      await held.release();
    }
    const bad = await runCli(tracker, ['start'], { cwd, env: sandboxEnv({ BOTVISOR_SANDBOX_SIM_PORT: 'eighty' }) });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('BOTVISOR_SANDBOX_SIM_PORT must be a port number from 0 to 65535');
    const detached = await runCli(tracker, ['start', '--detach'], { cwd, env: sandboxEnv() });
    expect(detached.code).to.equal(2);
    expect(detached.stderr).to.equal('botvisor: the sandbox runs in the foreground only: run botvisor start without --detach, or pass -c FILE for your own config\n');
  });
});
