import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, fakeToken, useTestbed } from '@botvisor/testkit';
import { expect } from 'chai';

const CLI = fileURLToPath(import.meta.resolve('@botvisor/cli/bin'));
const BOT = fileURLToPath(new URL('./fixtures/echo-bot.js', import.meta.url));

describe('botvisor doctor: who may run commands, private folders (real processes)', function () {
  this.timeout(60_000);
  const bed = useTestbed();

  function installation(bot: Record<string, unknown>): { config: string; dataDir: string } {
    const dir = bed.temp.make('botvisor-doctor-');
    const config = path.join(dir, 'botvisor.json');
    writeFileSync(config, JSON.stringify({ apiRoot: bed.sim.url, http: { port: 0 }, bots: [{ name: 'main', module: BOT, token: fakeToken(), ...bot }] }));
    return { config, dataDir: path.join(dir, 'data') };
  }

  async function doctor(config: string): Promise<{ code: number; stdout: string }> {
    const child = bed.tracker.spawn(process.execPath, [CLI, 'doctor', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await exited(child);
    return { code: typeof code === 'number' ? code : -1, stdout };
  }

  const commands = { up: { argv: ['uptime'] } };

  it('fails a bot with commands and no allow list, naming the key; warns when the config says "allow": "anyone"; is happy with a list', async () => {
    const none = await doctor(installation({ commands }).config);
    expect(none.code).to.equal(1);
    expect(none.stdout).to.include('bots[0].allow').and.include('anyone on Telegram could run them');
    const anyone = await doctor(installation({ commands, allow: 'anyone' }).config);
    expect(anyone.code, anyone.stdout).to.equal(0);
    expect(anyone.stdout).to.include('! bot main: anyone on Telegram may run its CLI commands ("allow": "anyone")');
    const listed = await doctor(installation({ commands, allow: [1001] }).config);
    expect(listed.code, listed.stdout).to.equal(0);
    expect(listed.stdout).to.include('✓ bot main: its CLI commands are allowed to 1 user(s)');
  });

  it('warns about a data folder open to other users (an older version made it 0755)', async () => {
    const inst = installation({ allow: [1001] });
    mkdirSync(inst.dataDir);
    chmodSync(inst.dataDir, 0o755);
    const r = await doctor(inst.config);
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stdout).to.include(`! ${inst.dataDir} is open to other users (mode 0755)`).and.include(`chmod -R go-rwx ${inst.dataDir}`);
    expect(r.stdout).to.match(/✓ .*logs is private \(mode 0700\)/);
  });
});
