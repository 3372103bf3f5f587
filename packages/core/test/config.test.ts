import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import { editDistance, nearestKey } from '../src/config/key-suggestions.js';
import { ConfigError, createLogger, loadConfig, loadControlConfig, resolveConfig, resolveControlConfig, tokenHash } from '../src/index.js';

const T1 = '111111111:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const T2 = '222222222:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
const env = { MAIN_TOKEN: T1, OTHER_TOKEN: T2 };

function errorOf(raw: unknown, environment: NodeJS.ProcessEnv = env, baseDir = '/tmp'): ConfigError {
  try {
    resolveConfig(raw, { source: 'botvisor.json', baseDir, env: environment });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(raw)}`);
}

const bridge = (extra: Record<string, unknown> = {}) => ({ name: 'main', kind: 'bridge', tokenEnv: 'MAIN_TOKEN', ...extra });

describe('config', () => {
  const temp = new TempDirs();
  afterEach(() => temp.removeAll());

  it('resolves the example config: defaults, absolute paths from the config folder, one poller per token', () => {
    const dir = temp.make();
    writeFileSync(path.join(dir, 'my-bot.js'), 'export default {}');
    mkdirSync(path.join(dir, 'secrets'));
    writeFileSync(path.join(dir, 'secrets', 'mine.token'), `${T2}\n`, { mode: 0o600 });
    const file = path.join(dir, 'botvisor.json');
    writeFileSync(file, JSON.stringify({
      apiRoot: 'http://127.0.0.1:8081/',
      bots: [
        bridge({ allow: [1001], admins: [1001], commands: { sleep: { argv: ['sleep', '{secs}'], args: { secs: '^[0-9]{1,4}$' }, timeoutSec: 600 } } }),
        { name: 'alerts', kind: 'alerts', tokenEnv: 'MAIN_TOKEN', chats: [1001] },
        { name: 'mine', module: './my-bot.js', tokenFile: 'secrets/mine.token' },
      ],
    }));
    const config = loadConfig(file, { env });
    expect(config.apiRoot).to.equal('http://127.0.0.1:8081');
    expect(config.dataDir).to.equal(path.join(dir, 'data'));
    expect(config.logDir).to.equal(path.join(dir, 'logs'));
    expect(config.http).to.deep.equal({ enabled: true, host: '127.0.0.1', port: 8080 });
    const [main, alerts, mine] = config.bots;
    expect(main).to.include({ name: 'main', kind: 'bridge', token: T1, polling: true, tokenHash: tokenHash(T1) });
    expect(main?.commands.sleep).to.deep.include({ argv: ['sleep', '{secs}'], timeoutSec: 600, admin: false });
    expect(alerts).to.include({ kind: 'alerts', polling: false });
    expect(mine).to.include({ kind: 'custom', module: path.join(dir, 'my-bot.js'), token: T2, polling: true });
    expect(config.warnings).to.deep.equal([]);
  });

  it('keeps the polling locks in the user\'s machine-wide folder unless locksDir says where (relative to the config folder)', () => {
    const runtimeDir = temp.make();
    // The same folder in a login shell (XDG_RUNTIME_DIR set) as under systemd (none): one lock per token for the user.
    const fromShell = resolveConfig({ bots: [bridge()] }, { source: 'x', baseDir: '/srv/a', env: { ...env, XDG_RUNTIME_DIR: runtimeDir } });
    expect(fromShell.locksDir).to.equal(`/tmp/botvisor-${process.getuid?.() ?? 0}/locks`);
    const fallback = resolveConfig({ bots: [bridge()] }, { source: 'x', baseDir: '/srv/a', env });
    expect(fallback.locksDir).to.equal(`/tmp/botvisor-${process.getuid?.() ?? 0}/locks`);
    const configured = resolveConfig({ locksDir: 'run/locks', bots: [bridge()] }, { source: 'x', baseDir: '/srv/a', env });
    expect(configured.locksDir).to.equal('/srv/a/run/locks');
    expect(configured.supervisor.erroredRetryMs).to.equal(300_000);
  });

  it('lets polling: true pick the poller of a shared token, and warns about a token written in the file', () => {
    const config = resolveConfig({ bots: [bridge(), { name: 'second', kind: 'bridge', token: T1, polling: true }] }, { source: 'x', baseDir: '/tmp', env });
    expect(config.bots.map((b) => [b.name, b.polling])).to.deep.equal([['main', false], ['second', true]]);
    expect(config.warnings[0]).to.match(/bots\[1\]\.token: the token is written in the config file/);
    expect(config.warnings[0]).to.not.include(T1);
  });

  const broken: Array<[string, unknown, RegExp]> = [
    ['no bots', { bots: [] }, /bots: expected at least one bot/],
    ['a misspelt key', { bots: [bridge({ comands: {} })] }, /bots\[0\]: Unrecognized key "comands" — did you mean "commands"\?/],
    ['a bad bot name', { bots: [bridge({ name: 'Main Bot' })] }, /bots\[0\]\.name: expected a name of lowercase letters/],
    ['a duplicate name', { bots: [bridge(), bridge()] }, /bots\[1\]\.name: "main" is already the name of bots\[0\]/],
    ['no kind and no module', { bots: [{ name: 'x', tokenEnv: 'MAIN_TOKEN' }] }, /bots\[0\]\.kind: expected "bridge" or "alerts", or a "module"/],
    ['an unknown kind', { bots: [bridge({ kind: 'chatgpt' })] }, /bots\[0\]\.kind: Invalid option: expected one of "bridge"\|"alerts"\|"custom"/],
    ['no token source', { bots: [{ name: 'main', kind: 'bridge' }] }, /bots\[0\]: expected one of token, tokenEnv or tokenFile/],
    ['two token sources', { bots: [bridge({ token: T1 })] }, /bots\[0\]: expected only one of token, tokenEnv or tokenFile, got token and tokenEnv/],
    ['a missing env var', { bots: [bridge({ tokenEnv: 'NOPE_TOKEN' })] }, /bots\[0\]\.tokenEnv: environment variable NOPE_TOKEN is not set/],
    ['a token of the wrong shape', { bots: [{ name: 'main', kind: 'bridge', token: 'hunter2' }] }, /bots\[0\]\.token: does not look like a Telegram bot token/],
    ['an invalid arg pattern', { bots: [bridge({ commands: { sleep: { argv: ['sleep', '{secs}'], args: { secs: '^[0-9' } } } })] }, /bots\[0\]\.commands\.sleep\.args\.secs: not a valid regular expression/],
    ['an undeclared placeholder', { bots: [bridge({ commands: { sleep: { argv: ['sleep', '{secs}'] } } })] }, /bots\[0\]\.commands\.sleep\.argv: placeholder \{secs\} has no pattern; add "secs" to commands\.sleep\.args/],
    ['an unused arg', { bots: [bridge({ commands: { up: { argv: ['uptime'], args: { n: '^\\d+$' } } } })] }, /bots\[0\]\.commands\.up\.args\.n: argument "n" is not used in argv/],
    ['an empty argv', { bots: [bridge({ commands: { up: { argv: [] } } })] }, /bots\[0\]\.commands\.up\.argv: expected at least the program name/],
    ['a command name Telegram refuses', { bots: [bridge({ commands: { 'Do-It': { argv: ['true'] } } })] }, /bots\[0\]\.commands\.Do-It: invalid name: command names are lowercase letters/],
    ['a string timeout', { bots: [bridge({ commands: { up: { argv: ['uptime'], timeoutSec: '10' } } })] }, /bots\[0\]\.commands\.up\.timeoutSec: Invalid input: expected number, received string/],
    ['an alerts bot without chats', { bots: [{ name: 'alerts', kind: 'alerts', tokenEnv: 'MAIN_TOKEN' }] }, /bots\[0\]\.chats: an alerts bot needs at least one chat id/],
    ['a non-numeric user id', { bots: [bridge({ allow: ['alice'] })] }, /bots\[0\]\.allow\[0\]: expected a numeric Telegram user or chat id/],
    ['two pollers on one token', { bots: [bridge({ polling: true }), { name: 'b', kind: 'bridge', tokenEnv: 'MAIN_TOKEN', polling: true }] }, /bots\[1\]\.polling: bots main, b share one token and both set polling: true/],
    ['a bad apiRoot', { apiRoot: 'not a url', bots: [bridge()] }, /apiRoot: expected a URL/],
    ['a port out of range', { http: { port: 70000 }, bots: [bridge()] }, /http\.port: Too big/],
    ['a public bind without a token', { http: { host: '0.0.0.0' }, bots: [bridge()] }, /http\.host: binding 0\.0\.0\.0 \(not loopback\) requires http\.authTokenEnv/],
    ['a bot with commands and no allow list', { bots: [bridge({ commands: { up: { argv: ['uptime'] } } })] }, /bots\[0\]\.allow: "main" runs CLI commands or sessions but has no allow list, so anyone on Telegram could run them; set "allow": \[your Telegram user ids\], or "allow": "anyone"/],
    ['a bot with sessions and no allow list', { bots: [bridge({ sessions: { shell: { argv: ['python3', '-i'], protocol: 'lines' } } })] }, /bots\[0\]\.allow: "main" runs CLI commands or sessions but has no allow list/],
    ['an allow that is neither a list nor "anyone"', { bots: [bridge({ allow: 'everyone' })] }, /bots\[0\]\.allow: expected a list of Telegram user ids, e\.g\. \[1001\], or "anyone"/],
    ['a placeholder named like an Object.prototype member', { bots: [bridge({ allow: [1], commands: { x: { argv: ['echo', '{constructor}'] } } })] }, /bots\[0\]\.commands\.x\.argv: placeholder \{constructor\} has a reserved name/],
    ['a NUL byte in argv', { bots: [bridge({ allow: [1], commands: { x: { argv: ['echo', 'a\u0000b'] } } })] }, /bots\[0\]\.commands\.x\.argv\[1\]: argv entries must not contain a NUL byte/],
    ['a custom module that is missing', { bots: [{ name: 'mine', module: './nope.js', tokenEnv: 'MAIN_TOKEN' }] }, /bots\[0\]\.module: \/tmp\/nope\.js does not exist/],
  ];
  for (const [what, raw, expected] of broken) {
    it(`refuses ${what}, naming the path`, () => {
      const err = errorOf(raw);
      expect(err.message).to.match(/^botvisor\.json is invalid:\n/);
      expect(err.message).to.match(expected);
      expect(err.message).to.not.include(T1);
    });
  }

  it('refuses a token file readable by group or others, with the chmod 600 fix', () => {
    const dir = temp.make();
    const file = path.join(dir, 'main.token');
    writeFileSync(file, T1);
    chmodSync(file, 0o644);
    const err = errorOf({ bots: [{ name: 'main', kind: 'bridge', tokenFile: 'main.token' }] }, env, dir);
    expect(err.message).to.include(`bots[0].tokenFile: ${file} is readable by group or others (mode 0644); run chmod 600 ${file}`);
    chmodSync(file, 0o600);
    expect(resolveConfig({ bots: [{ name: 'main', kind: 'bridge', tokenFile: 'main.token' }] }, { source: 'x', baseDir: dir, env }).bots[0]?.token).to.equal(T1);
  });

  it('refuses a missing token file with the fix', () => {
    const err = errorOf({ bots: [{ name: 'main', kind: 'bridge', tokenFile: 'absent.token' }] }, env, '/tmp/none');
    expect(err.message).to.include('bots[0].tokenFile: /tmp/none/absent.token does not exist; write the token there and run chmod 600');
  });

  it('reports every problem at once', () => {
    const err = errorOf({ bots: [bridge({ tokenEnv: 'NOPE' }), { name: 'alerts', kind: 'alerts', tokenEnv: 'MAIN_TOKEN' }] });
    expect(err.issues.map((i) => i.path)).to.deep.equal(['bots[0].tokenEnv', 'bots[1].chats']);
  });

  it('says where a file is not valid JSON, by line and column', () => {
    const dir = temp.make();
    const file = path.join(dir, 'botvisor.json');
    writeFileSync(file, '{\n  "bots": [\n    { "name": "main", }\n  ]\n}\n');
    expect(() => loadConfig(file, { env })).to.throw(ConfigError, /\(file\): not valid JSON: .* at line 3, column \d+/);
  });

  it('says when the file cannot be read', () => {
    expect(() => loadConfig('/nonexistent/botvisor.json', { env })).to.throw(ConfigError, /\/nonexistent\/botvisor\.json is invalid:\n {2}- \(file\): cannot read it: ENOENT/);
  });

  it('a bot with commands runs them for anyone only when the config says "allow": "anyone"; a bot without commands needs no list', () => {
    const open = resolveConfig({ bots: [bridge({ allow: 'anyone', commands: { up: { argv: ['uptime'] } } })] }, { source: 'x', baseDir: '/tmp', env });
    expect(open.bots[0]?.allow).to.equal(undefined);
    const listed = resolveConfig({ bots: [bridge({ allow: [1001], commands: { up: { argv: ['uptime'] } } })] }, { source: 'x', baseDir: '/tmp', env });
    expect(listed.bots[0]?.allow).to.deep.equal([1001]);
    expect(resolveConfig({ bots: [bridge()] }, { source: 'x', baseDir: '/tmp', env }).bots[0]?.allow).to.equal(undefined);
  });

  it('registers every configured token (and its secret part alone) with the log redaction, whatever its bot id', async () => {
    const dir = temp.make();
    // Bot ids of 1 and 20 digits: both are tokens the config accepts.
    const short = `7:${'S'.repeat(20)}shortid_secret_part_x`;
    const long = `12345678901234567890:${'L'.repeat(20)}longid_secret_part_yy`;
    resolveConfig({ bots: [bridge({ tokenEnv: 'SHORT' }), { name: 'b', kind: 'bridge', tokenEnv: 'LONG' }] }, { source: 'x', baseDir: dir, env: { SHORT: short, LONG: long } });
    const log = createLogger({ proc: 'cfg', logDir: dir, console: 'never' });
    // A URL-encoded colon hides the `<id>:` the pattern looks for; the registered secret part still matches.
    log.info('request failed', { url: `https://example.invalid/?t=${encodeURIComponent(short)}`, other: `bot${long}/getMe` });
    await log.close();
    const text = readFileSync(path.join(dir, 'cfg.log'), 'utf8');
    for (const secret of [short, long, short.split(':')[1] as string, long.split(':')[1] as string]) expect(text).to.not.include(secret);
  });

  describe('an unknown key suggests the nearest known one at its place', () => {
    const cases: Array<[string, unknown, string]> = [
      ['a bot key with two letters swapped', { bots: [{ name: 'main', kind: 'bridge', tokenFlie: 'x.token' }] }, 'bots[0]: Unrecognized key "tokenFlie" — did you mean "tokenFile"?'],
      ['a top-level key', { dataDri: 'd', bots: [bridge()] }, '(top level): Unrecognized key "dataDri" — did you mean "dataDir"?'],
      ['an http key', { http: { prot: 1 }, bots: [bridge()] }, 'http: Unrecognized key "prot" — did you mean "port"?'],
      ['a supervisor key in the wrong case', { supervisor: { stopgracems: 1 }, bots: [bridge()] }, 'supervisor: Unrecognized key "stopgracems" — did you mean "stopGraceMs"?'],
      ['a command key', { bots: [bridge({ commands: { up: { argv: ['uptime'], timeout: 5 } } })] }, 'bots[0].commands.up: Unrecognized key "timeout" — did you mean "timeoutSec"?'],
      ['nothing near: the keys allowed there', { bots: [bridge({ colour: 'red' })] }, 'bots[0]: Unrecognized key "colour"; expected one of: name, kind, module,'],
    ];
    for (const [what, raw, message] of cases) {
      it(what, () => {
        expect(errorOf(raw).message).to.include(`  - ${message}`);
      });
    }

    it('counts a swap of neighbours as one edit and refuses far-fetched matches', () => {
      expect(editDistance('tokenFlie', 'tokenFile')).to.equal(1);
      expect(editDistance('abc', 'abc')).to.equal(0);
      expect(editDistance('', 'abc')).to.equal(3);
      expect(nearestKey('nmae', ['name', 'kind'])).to.equal('name');
      expect(nearestKey('x', ['name', 'kind'])).to.equal(undefined);
      expect(nearestKey('chatz', ['chats', 'admins'])).to.equal('chats');
    });
  });

  it('"http": false turns HTTP off; another value says what is expected', () => {
    const off = resolveConfig({ http: false, bots: [bridge()] }, { source: 'x', baseDir: '/tmp', env });
    expect(off.http).to.deep.equal({ enabled: false, host: '127.0.0.1', port: 8080 });
    expect(errorOf({ http: true, bots: [bridge()] }).message).to.include('http: expected false (no HTTP) or an object such as { "host": "127.0.0.1", "port": 8080 }');
  });

  describe('the control config (for status, stop, restart, logs, doctor)', () => {
    it('reads no secret: an unset tokenEnv, an unreadable token file and an unset bearer token are fine', () => {
      const dir = temp.make();
      writeFileSync(path.join(dir, 'open.token'), T1, { mode: 0o644 });
      const file = path.join(dir, 'botvisor.json');
      writeFileSync(file, JSON.stringify({
        http: { host: '0.0.0.0', authTokenEnv: 'UNSET_BEARER' },
        bots: [bridge({ tokenEnv: 'UNSET_TOKEN' }), { name: 'filed', kind: 'bridge', tokenFile: 'open.token' }],
      }));
      expect(() => loadConfig(file, { env: {} })).to.throw(ConfigError, /UNSET_TOKEN is not set/);
      const control = loadControlConfig(file);
      expect(control.dataDir).to.equal(path.join(dir, 'data'));
      expect(control.http).to.deep.equal({ enabled: true, host: '0.0.0.0', port: 8080 });
      expect(control.bots.map((b) => [b.name, b.tokenSource])).to.deep.equal([['main', { tokenEnv: 'UNSET_TOKEN' }], ['filed', { tokenFile: path.join(dir, 'open.token') }]]);
      expect(control.bots[0]).to.not.have.any.keys('token', 'tokenHash');
    });

    it('still refuses what is wrong without a secret, every problem at once', () => {
      let err: unknown;
      try {
        resolveControlConfig({ bots: [bridge({ tokenFile: 'x', tokenEnv: 'Y' }), { name: 'main', kind: 'alerts', tokenEnv: 'MAIN_TOKEN' }] }, { source: 'x', baseDir: '/tmp' });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.path)).to.deep.equal(['bots[0]', 'bots[1].name', 'bots[1].chats']);
    });
  });
});
