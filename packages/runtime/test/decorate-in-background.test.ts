/**
 * Decorating calls (setMyCommands and the like) in the background: retried with a WARNING that
 * names the failure, given up with one ERROR when Telegram refuses them, stopped at once on shutdown.
 */
import { type SimHandle, startSim } from '@botvisor/bot-api-sim';
import { waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { Api } from 'node-telegram-bot-api';
import { Backoff, decorateInBackground, guardEnvelope } from '../src/index.js';
import { newToken } from './support/bot-harness.js';
import { RecordingLogger } from './support/recording-logger.js';

const COMMANDS = [{ command: 'help', description: 'this list' }];
const quick = (initialMs = 20): Backoff => new Backoff({ initialMs, maxMs: initialMs * 4, jitter: 0 });

describe('decorating calls in the background', () => {
  let sim: SimHandle;
  let token: string;
  let api: Api;
  beforeEach(async () => {
    sim = await startSim();
    token = newToken();
    api = new Api(token, { apiRoot: sim.url, maxRetries: 0, fetch: guardEnvelope() });
  });
  afterEach(() => sim.close());

  const menu = async (): Promise<string[]> => ((await api.getMyCommands()) as Array<{ command: string }>).map((c) => c.command);

  it('returns at once, retries foreign answers and 5xx with a WARNING each, and applies the call in the end', async () => {
    await sim.client.addFault({ method: 'setMyCommands', times: 2, foreign: { status: 500, body: 'json' } });
    await sim.client.addFault({ method: 'setMyCommands', fail: { error_code: 502, description: 'Bad Gateway' } });
    const logger = new RecordingLogger();
    const decoration = decorateInBackground({ what: 'set the command menu (setMyCommands)', call: (signal) => api.setMyCommands({ commands: COMMANDS }, signal), logger, backoff: quick() });
    expect(decoration.state).to.equal('trying');
    expect(await decoration.settled).to.equal('applied');
    expect(decoration.failures).to.equal(3);
    const warnings = logger.at('warning');
    expect(warnings.map((w) => w.meta.error)).to.deep.equal([
      `HTTP 500 from setMyCommands: {"message":"API method 'setMyCommands' is not supported."}`,
      `HTTP 500 from setMyCommands: {"message":"API method 'setMyCommands' is not supported."}`,
      '502 Bad Gateway',
    ]);
    expect(warnings[0]?.msg).to.equal('could not set the command menu (setMyCommands); trying again in the background (the bot works without it)');
    expect(logger.at('error')).to.deep.equal([]);
    expect(logger.at('info').map((r) => r.msg)).to.deep.equal(['set the command menu (setMyCommands): done after 4 attempts']);
    expect(await menu()).to.deep.equal(['help']);
  });

  it('waits retry_after on a 429', async () => {
    await sim.client.addFault({ method: 'setMyCommands', fail: { error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 } });
    const logger = new RecordingLogger();
    const started = Date.now();
    const decoration = decorateInBackground({ what: 'set the menu', call: (signal) => api.setMyCommands({ commands: COMMANDS }, signal), logger, backoff: quick() });
    expect(await decoration.settled).to.equal('applied');
    expect(Date.now() - started).to.be.at.least(900);
    expect(logger.at('warning')[0]?.meta).to.include({ retryInMs: 1000, error: '429 Too Many Requests: retry after 1' });
  });

  it('gives up with one ERROR when Telegram refuses the call (a 400 would be refused again)', async () => {
    await sim.client.addFault({ method: 'setMyCommands', times: 5, fail: { error_code: 400, description: 'Bad Request: BOT_COMMAND_INVALID' } });
    const logger = new RecordingLogger();
    const decoration = decorateInBackground({ what: 'set the menu', call: (signal) => api.setMyCommands({ commands: COMMANDS }, signal), logger, backoff: quick() });
    expect(await decoration.settled).to.equal('refused');
    expect(decoration.failures).to.equal(1);
    expect(logger.at('error')).to.have.length(1);
    expect(logger.at('error')[0]?.meta).to.deep.equal({ error: '400 Bad Request: BOT_COMMAND_INVALID' });
    expect(logger.at('warning')).to.deep.equal([]);
  });

  it('stop() ends a decoration that is waiting to retry at once, without logging more', async () => {
    await sim.client.addFault({ method: 'setMyCommands', times: 100, foreign: { status: 502, body: 'html' } });
    const logger = new RecordingLogger();
    const decoration = decorateInBackground({ what: 'set the menu', call: (signal) => api.setMyCommands({ commands: COMMANDS }, signal), logger, backoff: quick(60_000) });
    await waitFor(() => decoration.state === 'waiting', { what: 'the first failure' });
    const stopping = Date.now();
    await decoration.stop();
    expect(Date.now() - stopping).to.be.below(1000);
    expect(decoration.state).to.equal('stopped');
    expect(await decoration.settled).to.equal('stopped');
    expect(logger.records).to.have.length(1);
  });

  it('stop() aborts a call in flight and logs nothing for it', async () => {
    await sim.client.addFault({ method: 'setMyCommands', delayMs: 5000 });
    const logger = new RecordingLogger();
    const decoration = decorateInBackground({ what: 'set the menu', call: (signal) => api.setMyCommands({ commands: COMMANDS }, signal), logger, backoff: quick() });
    await waitFor(async () => (await sim.client.stats(token)).requests >= 1, { what: 'the call to reach the sim' });
    const stopping = Date.now();
    await decoration.stop();
    expect(Date.now() - stopping).to.be.below(1000);
    expect(decoration.state).to.equal('stopped');
    expect(logger.records).to.deep.equal([]);
  });
});
