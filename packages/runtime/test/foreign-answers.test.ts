/**
 * Bot API answers that are not Telegram's envelope — a proxy's HTML page, another program's JSON,
 * an empty body — read as "HTTP <status> from <method>: <the start of the body>", never as
 * "undefined: undefined"; and Telegram's own errors still pass as they are.
 */
import { type SimHandle, startSim } from '@botvisor/bot-api-sim';
import { expect } from 'chai';
import { Api, ParseError, TelegramApiError } from 'node-telegram-bot-api';
import { describeApiError, ForeignResponseError, findForeignResponse, guardEnvelope } from '../src/index.js';
import { StartupError, step } from '../src/lifecycle/startup-step.js';
import { classifyPollError } from '../src/polling/error-policy.js';
import { quoteBody } from '../src/telegram/foreign-response-error.js';
import { textResponse } from '../src/telegram/keep-alive-fetch.js';
import { newToken } from './support/bot-harness.js';

async function failure(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (err) {
    return err;
  }
  return expect.fail('the call should have failed');
}

describe('Bot API answers that are not Telegram\'s envelope', () => {
  let sim: SimHandle;
  let token: string;
  let api: Api;
  beforeEach(async () => {
    sim = await startSim();
    token = newToken();
    api = new Api(token, { apiRoot: sim.url, maxRetries: 0, fetch: guardEnvelope() });
  });
  afterEach(() => sim.close());

  const NOT_SUPPORTED = `{"message":"API method 'setMyCommands' is not supported."}`;

  it('a 500 with other JSON (telegram-test-api\'s answer to setMyCommands) reads as HTTP 500 from setMyCommands', async () => {
    await sim.client.addFault({ method: 'setMyCommands', foreign: { status: 500, body: 'json' } });
    const err = await failure(api.setMyCommands({ commands: [{ command: 'help', description: 'this list' }] }));
    expect(findForeignResponse(err)).to.be.instanceOf(ForeignResponseError);
    expect(describeApiError(err)).to.equal(`HTTP 500 from setMyCommands: ${NOT_SUPPORTED}`);
  });

  it('an HTML page, an empty body and other JSON at any status each say status, method and body', async () => {
    const cases = [
      { status: 502, body: 'html', expected: /^HTTP 502 from getMe: <html> <head><title>502 Bad Gateway<\/title><\/head> <body> <center><h1>502 Bad Gateway/ },
      { status: 200, body: 'html', expected: /^HTTP 200 from getMe: <html>/ },
      { status: 404, body: 'html', expected: /^HTTP 404 from getMe: <html>.*404 Not Found/ },
      { status: 503, body: 'empty', expected: /^HTTP 503 from getMe: \(empty body\)$/ },
      { status: 200, body: 'empty', expected: /^HTTP 200 from getMe: \(empty body\)$/ },
      { status: 400, body: 'json', expected: /^HTTP 400 from getMe: \{"message":"API method 'getMe' is not supported\."\}$/ },
      { status: 200, body: 'json', expected: /^HTTP 200 from getMe: \{"message"/ },
    ] as const;
    for (const c of cases) {
      await sim.client.addFault({ method: 'getMe', foreign: { status: c.status, body: c.body } });
      const text = describeApiError(await failure(api.getMe()));
      expect(text, JSON.stringify(c)).to.match(c.expected);
      expect(text).to.not.include('undefined').and.not.include(token);
    }
    expect((await api.getMe()).username, 'answers in the envelope go through the guard untouched').to.match(/^sim_\d+_bot$/);
  });

  it("Telegram's own errors pass the guard as TelegramApiError, described as before", async () => {
    await sim.client.addFault({ method: 'sendMessage', fail: { error_code: 400, description: 'Bad Request: chat not found' } });
    const err = await failure(api.sendMessage({ chat_id: 1, text: 'x' }));
    expect(err).to.be.instanceOf(TelegramApiError);
    expect((err as TelegramApiError).errorCode).to.equal(400);
    expect(describeApiError(err)).to.equal('400 Bad Request: chat not found');
  });

  it('without the guard, the client\'s own errors are still described without "undefined"', async () => {
    const plain = new Api(token, { apiRoot: sim.url, maxRetries: 0 });
    await sim.client.addFault({ method: 'setMyCommands', foreign: { status: 500, body: 'json' } });
    const undefinedFields = await failure(plain.setMyCommands({ commands: [] }));
    expect(undefinedFields).to.be.instanceOf(TelegramApiError);
    expect((undefinedFields as Error).message, 'the client itself').to.equal('undefined: undefined');
    expect(describeApiError(undefinedFields)).to.equal("the Bot API answered without Telegram's error fields (no error_code, no description)");
    await sim.client.addFault({ method: 'getMe', foreign: { status: 200, body: 'html' } });
    const html = await failure(plain.getMe());
    expect(html).to.be.instanceOf(ParseError);
    expect(describeApiError(html)).to.match(/^Invalid JSON in response to getMe: <html>/);
  });

  it('quotes at most 200 characters of a body, on one line', () => {
    const long = `<p>\n${'x'.repeat(500)}</p>`;
    const quoted = quoteBody(long);
    expect(quoted).to.equal(`<p> ${'x'.repeat(196)}…`);
    expect(new ForeignResponseError(502, 'getUpdates', long).message).to.equal(`HTTP 502 from getUpdates: ${quoted}`);
  });

  it('a start-up step names the foreign answer, not "undefined: undefined"', async () => {
    await sim.client.addFault({ method: 'setMyCommands', foreign: { status: 500, body: 'json' } });
    const err = await failure(step('bridge commands started', () => api.setMyCommands({ commands: [] }), () => 1));
    expect(err).to.be.instanceOf(StartupError);
    expect((err as Error).message).to.equal(`start-up failed at bridge commands started: HTTP 500 from setMyCommands: ${NOT_SUPPORTED}`);
  });

  it('getUpdates: a foreign 5xx or 429 is transient, any other foreign status unexpected (never "bad token")', async () => {
    const cases = [
      { status: 502, body: 'html', kind: 'transient' },
      { status: 429, body: 'empty', kind: 'transient' },
      { status: 404, body: 'html', kind: 'unexpected' },
      { status: 401, body: 'json', kind: 'unexpected' },
      { status: 200, body: 'empty', kind: 'unexpected' },
    ] as const;
    for (const c of cases) {
      await sim.client.addFault({ method: 'getUpdates', foreign: { status: c.status, body: c.body } });
      const failureClass = classifyPollError(await failure(api.getUpdates({ timeout: 0 })));
      expect(failureClass, JSON.stringify(c)).to.include({ kind: c.kind });
      expect((failureClass as { description: string }).description).to.match(new RegExp(`^HTTP ${c.status} from getUpdates: `));
    }
    await sim.client.addFault({ method: 'getUpdates', fail: { error_code: 401, description: 'Unauthorized' } });
    expect(classifyPollError(await failure(api.getUpdates({ timeout: 0 })))).to.deep.equal({ kind: 'bad-token', description: '401 Unauthorized' });
  });

  it('a success envelope passes without a second parse; one that begins like it and is not JSON fails as the client\'s ParseError, never as a result', async () => {
    let body = '';
    const fake = guardEnvelope(async () => textResponse(200, 'OK', { get: () => 'application/json' }, body));
    const direct = new Api(token, { apiRoot: 'http://127.0.0.1:9', maxRetries: 0, fetch: fake });
    body = '{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"b","username":"b_bot"}}';
    expect(await direct.getMe()).to.deep.include({ id: 1, username: 'b_bot' });
    body = '{"ok":true,"result":<html>oops</html>}';
    expect(await failure(direct.getMe())).to.be.instanceOf(ParseError);
    body = '{"ok":true}'; // no result: the full check still runs, and says so
    expect(describeApiError(await failure(direct.getMe()))).to.match(/^HTTP 200 from getMe: \{"ok":true\}$/);
  });
});
