import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { setTimeout } from 'node:timers/promises';
import { TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { createLogger, redact, registerSecret } from '../src/index.js';

const TOKEN = '7012345678:AAHk3Zq_secretsecretsecretsecret-XYZ12';

function readLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('logger', () => {
  const temp = new TempDirs();
  afterEach(() => temp.removeAll());

  it('writes JSON lines with ts, level, proc, pid and msg to logs/<proc>.log', async () => {
    const logDir = temp.make();
    const log = createLogger({ proc: 'main', logDir, console: 'never', level: 'debug' });
    log.info('hello', { bot: 'main' });
    log.warning('409 Conflict, backing off', { retryInMs: 1000 });
    log.child({ bot: 'alerts' }).error('boom');
    log.debug('details');
    await log.close();
    const lines = readLines(`${logDir}/main.log`);
    expect(lines.map((l) => l.level)).to.deep.equal(['info', 'warning', 'error', 'debug']);
    for (const l of lines) {
      expect(l).to.include.keys('ts', 'level', 'proc', 'pid', 'msg');
      expect(l.proc).to.equal('main');
      expect(l.pid).to.equal(process.pid);
      expect(Number.isNaN(Date.parse(String(l.ts)))).to.equal(false);
    }
    expect(lines[2]).to.include({ bot: 'alerts', msg: 'boom' });
  });

  it('never writes a token: not in the message, metadata, a thrown error\'s message, its stack or its cause', async () => {
    const logDir = temp.make();
    const log = createLogger({ proc: 'leak', logDir, console: 'never' });
    const url = `https://api.telegram.org/bot${TOKEN}/getUpdates`;
    let thrown: Error | undefined;
    try {
      // A real error from a real client, with the URL in its message and stack.
      await fetch(`http://127.0.0.1:1/bot${TOKEN}/getMe`);
    } catch (err) {
      thrown = new Error(`request to ${url} failed`, { cause: err });
    }
    expect(thrown?.stack).to.include(TOKEN);
    log.error(`polling failed for ${url}`, { err: thrown, token: TOKEN, nested: { list: [TOKEN, { url }] } });
    log.warning('plain', { headers: { authorization: `Bearer ${TOKEN}` } });
    await log.close();
    const text = readFileSync(`${logDir}/leak.log`, 'utf8');
    expect(text).to.not.include(TOKEN);
    expect(text).to.not.include(TOKEN.split(':')[1] as string);
    expect(text).to.include('7012345678:<redacted>');
    const [first] = readLines(`${logDir}/leak.log`);
    expect((first?.err as { stack?: string } | undefined)?.stack).to.be.a('string').that.includes('request to https://api.telegram.org/bot7012345678:<redacted>/getUpdates');
  });

  it('redacts registered secrets of any shape, and refuses one too short to be a secret', async () => {
    registerSecret('sim-token-abcdef');
    expect(redact('auth sim-token-abcdef here')).to.equal('auth <redacted> here');
    expect(() => registerSecret('abc')).to.throw(/shorter than 8/);
  });

  it('rotates by size: <proc>.log points at the live file and old files are pruned to maxFiles', async () => {
    const logDir = temp.make();
    const log = createLogger({ proc: 'rot', logDir, console: 'never', maxSizeBytes: 2000, maxFiles: 3 });
    for (let i = 0; i < 200; i++) {
      log.info(`line ${i} ${'x'.repeat(50)}`);
      if (i % 20 === 0) await setTimeout(10); // a paced writer, as in real life: pruning runs on rotation events
    }
    const rotated = () => readdirSync(logDir).filter((f) => /^rot-\d{4}-\d{2}-\d{2}\.log(\.\d+)?$/.test(f));
    await waitFor(() => rotated().length === 3, { what: 'three rotated files', timeoutMs: 5000 });
    await log.close();
    expect(lstatSync(`${logDir}/rot.log`).isSymbolicLink()).to.equal(true);
    const live = readLines(`${logDir}/rot.log`);
    expect(live.at(-1)?.msg).to.match(/^line 199 /);
  });

  it('a record keeps its own pid: metadata named like a record field (a bot\'s pid) moves under `meta`', async () => {
    const logDir = temp.make();
    const log = createLogger({ proc: 'supervisor', logDir, console: 'never' });
    log.info('bot started', { bot: 'main', pid: 424242, proc: 'main', msg: 'x' });
    log.child({ pid: 7 }).warning('child', { meta: { note: 'kept' } });
    await log.close();
    const [first, second] = readLines(`${logDir}/supervisor.log`);
    expect(first).to.include({ pid: process.pid, proc: 'supervisor', msg: 'bot started', bot: 'main' });
    expect(first?.meta).to.deep.equal({ pid: 424242, proc: 'main', msg: 'x' });
    expect(second).to.include({ pid: process.pid, msg: 'child' });
    expect(second?.meta).to.deep.include({ note: 'kept' });
  });

  it('redacts tokens of every bot id length the config accepts (1 to 20 digits)', () => {
    for (const id of ['7', '42', '12345678901234567890']) {
      const token = `${id}:AAHk3Zq_secretsecretsecretsecret-XYZ12`;
      expect(redact(`GET /bot${token}/getMe`)).to.equal(`GET /bot${id}:<redacted>/getMe`);
    }
  });

  it('log files are 0600 and the folder 0700, even under umask 000', async () => {
    const parent = temp.make();
    const logDir = `${parent}/nested/logs`;
    const previous = process.umask(0);
    try {
      const log = createLogger({ proc: 'modes', logDir, console: 'never' });
      log.info('hello');
      await log.close();
    } finally {
      process.umask(previous);
    }
    expect(statSync(`${parent}/nested`).mode & 0o777).to.equal(0o700);
    expect(statSync(logDir).mode & 0o777).to.equal(0o700);
    const files = readdirSync(logDir).filter((f) => !lstatSync(`${logDir}/${f}`).isSymbolicLink());
    expect(files).to.include('.modes-audit.json');
    for (const f of files) expect(statSync(`${logDir}/${f}`).mode & 0o777, f).to.equal(0o600);
  });
});
