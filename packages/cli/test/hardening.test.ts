/**
 * Issue 15 through the CLI, with real processes: `botvisor start` survives its own stdout going
 * away mid-stop (`botvisor start | tee log`, then Ctrl-C), a data dir too deep for a socket path
 * still starts and is found by `status`, and `doctor` reports the socket path and which process
 * containment the machine offers.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, fakeToken, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';

const CLI = fileURLToPath(import.meta.resolve('@botvisor/cli/bin'));
const BOT = fileURLToPath(new URL('./fixtures/echo-bot.js', import.meta.url));

describe('botvisor CLI: last resort, deep data dirs, platform checks (real processes)', function () {
  this.timeout(90_000);
  const bed = useTestbed();

  function installation(extra: object = {}): { config: string; dir: string } {
    const dir = bed.temp.make('botvisor-hard-');
    const config = path.join(dir, 'botvisor.json');
    writeFileSync(config, JSON.stringify({ apiRoot: bed.sim.url, http: { port: 0 }, supervisor: { stopGraceMs: 2000 }, bots: [{ name: 'main', module: BOT, token: fakeToken() }], ...extra }));
    return { config, dir };
  }

  function start(config: string): { child: ChildProcess; stdout: () => string } {
    const child = bed.tracker.spawn(process.execPath, [CLI, 'start', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    return { child, stdout: () => out };
  }

  async function run(args: string[]): Promise<{ code: number; stdout: string }> {
    const child = bed.tracker.spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await exited(child);
    return { code: typeof code === 'number' ? code : -1, stdout };
  }

  it('Ctrl-C after the reader of its stdout is gone: the supervisor still stops every bot and exits 0', async () => {
    const inst = installation();
    const s = start(inst.config);
    await waitFor(() => s.stdout().includes('all bots ready'), { timeoutMs: 30_000, what: 'all bots ready' });
    s.child.stdout?.destroy(); // `tee` died first
    s.child.kill('SIGINT');
    expect(await exited(s.child)).to.equal(0);
    const log = readFileSync(path.join(inst.dir, 'logs', 'supervisor.log'), 'utf8');
    expect(log).to.match(/"msg":"stopped"/);
    expect(log).not.to.include('uncaught error');
  });

  it('a data dir too deep for a socket path: start works, status finds it, doctor says where the socket is', async () => {
    const deep = path.join('volumes', 'a-rather-long-docker-volume-name-0123456789abcdef', '_data', 'botvisor', 'state-of-the-bots');
    const inst = installation({ dataDir: deep });
    const s = start(inst.config);
    await waitFor(() => s.stdout().includes('all bots ready'), { timeoutMs: 30_000, what: 'all bots ready' });
    const status = await run(['status', '-c', inst.config]);
    expect(status.code, status.stdout).to.equal(0);
    expect(status.stdout).to.include('main');
    const doctor = await run(['doctor', '-c', inst.config]);
    expect(doctor.stdout).to.match(/✓ the data dir is too deep for a socket path \(\d+ bytes > 107\); the control socket is \//);
    expect(doctor.stdout).to.match(/[✓!] (each bot's process tree is held in a cgroup v2 group|bots' process trees are tracked by the tree cookie only)/);
    s.child.kill('SIGTERM');
    expect(await exited(s.child)).to.equal(0);
  });
});
