import { lstatSync, readdirSync, readFileSync } from 'node:fs';
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
});
