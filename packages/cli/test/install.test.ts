/**
 * The README's "Write your own bot", done as a newcomer does it, from an empty folder: pack the
 * repository once (`npm run pack`'s script), `npm init` and install the tarball, write the README's
 * bot.js and botvisor.json (taken from the README itself), start the local Bot API from the
 * installed `bot-api-sim`, `botvisor start --detach`, chat with the bot through the simulator's
 * control API, `status` without the token, `stop`. Only the ports differ (free ones, not 8080/8081).
 * It also checks the install asked the registry for no name of ours.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, ProcessTracker, TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const TOKEN = '123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** The README section the test follows, from its heading to the next one. */
function readmeSection(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** A file the README shows, marked `<!-- install-test: NAME -->` before its code block. */
function readmeFile(name: string): string {
  const m = new RegExp(`<!-- install-test: ${name.replace('.', '\\.')} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(README);
  if (m === null) throw new Error(`README.md shows no ${name} (marked <!-- install-test: ${name} -->)`);
  return `${m[1]}\n`;
}

/** A newcomer's shell: no npm_* variables of the npm run that may have started mocha (they would point npx elsewhere). */
function newcomerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.has(k.toLowerCase())));
  delete env.INIT_CWD;
  delete env.ECHO_BOT_TOKEN;
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

interface Ran {
  code: number | NodeJS.Signals;
  stdout: string;
  stderr: string;
}

describe('install: the README\'s "Write your own bot" from an empty folder', function () {
  this.timeout(600_000);
  const tracker = new ProcessTracker();
  const temp = new TempDirs();
  const packTemp = new TempDirs();
  let tarball = '';

  before(async function () {
    this.timeout(300_000);
    const out = packTemp.make('botvisor-pack-');
    const result = JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'pack', 'pack.js'), '--out', out, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as { file: string };
    tarball = result.file;
  });
  after(() => packTemp.removeAll());
  afterEach(async () => {
    await tracker.killAll();
    temp.removeAll();
  });

  function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = newcomerEnv()): Promise<Ran> {
    const child = tracker.spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    return collect(child);
  }

  async function collect(child: ChildProcess): Promise<Ran> {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const code = await exited(child);
    await closed;
    return { code, stdout, stderr };
  }

  function expectOk(r: Ran, what: string): void {
    expect(r.code, `${what} failed:\n${r.stdout}\n${r.stderr}`).to.equal(0);
  }

  it('the README shows the steps this test takes', () => {
    const section = readmeSection('Write your own bot');
    for (const step of [
      'mkdir echo-bot && cd echo-bot',
      'npm init -y && npm pkg set type=module',
      `npm install ~/botvisor/dist/${path.basename(tarball)}`,
      'npx bot-api-sim --port 8081',
      `export ECHO_BOT_TOKEN=${TOKEN}`,
      'npx botvisor start --detach',
      'npx botvisor chat --sim http://127.0.0.1:8081 --token $ECHO_BOT_TOKEN',
      'you> /echo hello',
      'bot> echo: hello',
      'npx botvisor status',
      'npx botvisor stop',
    ]) {
      expect(section, `README "Write your own bot" says: ${step}`).to.include(step);
    }
    expect(readmeSection('Install')).to.include('npm ci && npm run pack');
  });

  it('install the tarball, write the bot, start it against bot-api-sim, get an answer, stop', async () => {
    const dir = path.join(temp.make('botvisor-install-'), 'echo-bot');
    mkdirSync(dir);
    expectOk(await run('npm', ['init', '-y'], dir), 'npm init -y');
    expectOk(await run('npm', ['pkg', 'set', 'type=module'], dir), 'npm pkg set type=module');
    // --prefer-offline: the dependencies come from npm's cache when it has them (CI's registry is slow);
    // --loglevel http: every registry request is printed, so the test sees what was asked for.
    const install = await run('npm', ['install', '--prefer-offline', '--loglevel', 'http', tarball], dir);
    expectOk(install, 'npm install <tarball>');

    // No name of ours was asked of the registry: the lock names the tarball and the bundled packages only.
    const requests = `${install.stdout}\n${install.stderr}`.split('\n').filter((l) => /https?:\/\//.test(l));
    expect(requests.filter((l) => /\/(@|%40)botvisor(\/|%2f)|\/botvisor(\s|$|\/-\/)/i.test(l)), 'registry requests for our names').to.deep.equal([]);
    const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string; inBundle?: boolean }> };
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (!/(^|\/)(@botvisor\/[^/]+|botvisor)$/.test(where)) continue;
      if (where === 'node_modules/botvisor') expect(entry.resolved, where).to.match(/^file:.*botvisor-[\d.]+\.tgz$/);
      else expect(entry.inBundle, `${where} comes from inside the tarball`).to.equal(true);
    }
    const installed = path.join(dir, 'node_modules', 'botvisor');
    expect(existsSync(path.join(installed, 'index.d.ts')) && existsSync(path.join(installed, 'node_modules', '@botvisor', 'runtime', 'dist', 'src', 'index.d.ts')), 'the types ship').to.equal(true);
    // The processes ship as bundles (scripts/build/bundle.js), without their source maps or build metadata.
    const ours = path.join(installed, 'node_modules', '@botvisor');
    for (const [pkg, entry] of [['runtime', 'bot.js'], ['runtime', 'index.js'], ['supervisor', 'supervisor.js'], ['cli', 'botvisor.js'], ['bots', 'bridge.js']]) {
      const bundleDir = path.join(ours, pkg as string, 'dist', 'bundle');
      expect(existsSync(path.join(bundleDir, entry as string)), `${pkg} ships ${entry}`).to.equal(true);
      expect(readdirSync(bundleDir).filter((f) => f.endsWith('.map') || f === 'metafile.json'), `${pkg}'s bundle ships no maps or metafile`).to.deep.equal([]);
    }

    writeFileSync(path.join(dir, 'bot.js'), readmeFile('bot.js'));
    // The local Bot API on a free port (the README's 8081), so its URL goes where the README has 8081.
    const sim = tracker.spawn('npx', ['bot-api-sim', '--port', '0'], { cwd: dir, env: newcomerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let simOut = '';
    sim.stdout?.on('data', (c: Buffer) => (simOut += c.toString()));
    sim.stderr?.on('data', (c: Buffer) => (simOut += c.toString()));
    const simUrl = await waitFor(() => /listening \{"url":"(http:\/\/127\.0\.0\.1:\d+)"\}/.exec(simOut)?.[1], { timeoutMs: 60_000, what: `bot-api-sim listening (output so far: ${simOut})` });
    const config = readmeFile('botvisor.json').replace('http://127.0.0.1:8081', simUrl).replace('"port": 8080', '"port": 0');
    writeFileSync(path.join(dir, 'botvisor.json'), config);

    const withToken = newcomerEnv({ ECHO_BOT_TOKEN: TOKEN });
    const started = await run('npx', ['botvisor', 'start', '--detach'], dir, withToken);
    expectOk(started, 'npx botvisor start --detach');
    expect(started.stdout).to.match(/^echo\s+ready\s+\d+/m);

    const chat = tracker.spawn('npx', ['botvisor', 'chat', '--sim', simUrl, '--token', TOKEN], { cwd: dir, env: withToken, stdio: ['pipe', 'pipe', 'pipe'] });
    const chatDone = collect(chat);
    let chatOut = '';
    chat.stdout?.on('data', (c: Buffer) => (chatOut += c.toString()));
    await waitFor(() => chatOut.includes('Chatting as Test (user 100001)'), { timeoutMs: 60_000, what: `botvisor chat ready (output: ${chatOut})` });
    chat.stdin?.write('/echo hello\n');
    await waitFor(() => chatOut.includes('bot> echo: hello'), { timeoutMs: 60_000, what: `the bot's answer (chat output: ${chatOut})` });
    chat.stdin?.write('/quit\n');
    expectOk(await chatDone, 'npx botvisor chat');

    const status = await run('npx', ['botvisor', 'status'], dir); // no ECHO_BOT_TOKEN here
    expectOk(status, 'npx botvisor status');
    expect(status.stdout).to.match(/^echo\s+ready/m);
    // What runs is the bundles: the supervisor (hosted by `botvisor start`) and the bot process.
    const report = JSON.parse((await run('npx', ['botvisor', 'status', '--json'], dir)).stdout) as { supervisor: { pid: number }; bots: Array<{ pid: number | null }> };
    const commandLine = (pid: number | null): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    expect(commandLine(report.supervisor.pid)).to.include('/@botvisor/cli/dist/bundle/botvisor.js start');
    expect(commandLine(report.bots[0]?.pid ?? null)).to.include('/@botvisor/runtime/dist/bundle/bot.js');
    const stopped = await run('npx', ['botvisor', 'stop'], dir);
    expectOk(stopped, 'npx botvisor stop');
    expect(stopped.stdout).to.match(/^stopped \(supervisor pid \d+\)$/m);

    // "type": "module" in the folder's package.json: Node has nothing to warn about loading bot.js.
    for (const f of readdirSync(path.join(dir, 'logs'))) {
      expect(readFileSync(path.join(dir, 'logs', f), 'utf8'), `logs/${f}`).to.not.match(/MODULE_TYPELESS_PACKAGE_JSON|Warning: To load an ES module/);
    }
  });
});
