import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig } from '@botvisor/core';
import { useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { type ManagedBot, Supervisor } from '../src/index.js';
import { fixtureBot, install, newToken } from './support/installation.js';

const EVENT_BOT = fileURLToPath(new URL('./fixtures/event-listener-bot.js', import.meta.url));
const FAST = { pingIntervalMs: 500, hungAfterMs: 3000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 100, stopGraceMs: 3000 };

describe('supervisor events reach the bots that subscribed', function () {
  this.timeout(60_000);
  const bed = useTestbed();

  it('delivers events to a custom bot that sent subscribe-events, never to one that did not; a subscription ends with its process', async () => {
    const eventsDir = bed.temp.make('botvisor-events-');
    const inst = install(bed.temp, bed.sim, [fixtureBot('listener', newToken()), fixtureBot('deaf', newToken()), fixtureBot('once', newToken())], FAST);
    const config = loadConfig(inst.configFile);
    const logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never', level: 'debug' });
    const sup = await Supervisor.start({
      config,
      configFile: inst.configFile,
      logger,
      botEntry: EVENT_BOT,
      env: { ...process.env, FIXTURE_EVENTS_DIR: eventsDir, FIXTURE_SUBSCRIBERS: 'listener', FIXTURE_SUBSCRIBE_ONCE: 'once' },
    });
    bed.onCleanup(() => sup.stop());
    await sup.waitReady(20_000);
    const bot = (name: string): ManagedBot => sup.bots.get(name) as ManagedBot;
    const heard = (name: string, pid: number): Array<{ kind: string; bot?: string }> =>
      readFileSync(path.join(eventsDir, `${name}.${pid}.jsonl`), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { kind: string; bot?: string });
    const killAndAwaitReady = async (name: string): Promise<number> => {
      const old = bot(name).pid as number;
      process.kill(old, 'SIGKILL');
      await waitFor(() => bot(name).state === 'ready' && bot(name).pid !== old, { timeoutMs: 20_000, what: `bot ${name} to be back after kill -9` });
      return bot(name).pid as number;
    };
    const listenerHears = (pid: number, kind: string, about: string) =>
      waitFor(() => heard('listener', pid).some((e) => e.kind === kind && e.bot === about), { timeoutMs: 10_000, what: `listener pid ${pid} to hear "${kind}" of ${about}` });

    const [listener1, once1, deaf1] = [bot('listener').pid as number, bot('once').pid as number, bot('deaf').pid as number];
    const deaf2 = await killAndAwaitReady('deaf');
    await listenerHears(listener1, 'ready', 'deaf');
    expect(heard('listener', listener1).map((e) => `${e.kind} ${e.bot}`)).to.include.members(['crashed deaf', 'restarted deaf', 'ready deaf']);
    expect(heard('once', once1).map((e) => `${e.kind} ${e.bot}`)).to.include.members(['crashed deaf', 'restarted deaf', 'ready deaf']);
    expect(heard('deaf', deaf1), 'the bot that never subscribed').to.deep.equal([]);

    // New processes: the listener subscribes again, `once` does not; its old subscription died with its old process.
    const listener2 = await killAndAwaitReady('listener');
    const once2 = await killAndAwaitReady('once');
    await killAndAwaitReady('deaf');
    await listenerHears(listener2, 'ready', 'deaf');
    expect(heard('once', once2), 'a new process of a bot that does not subscribe again').to.deep.equal([]);
    expect(heard('deaf', deaf2)).to.deep.equal([]);
  });
});
