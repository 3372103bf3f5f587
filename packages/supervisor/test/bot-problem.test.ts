import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig } from '@botvisor/core';
import { useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { type ManagedBot, Supervisor } from '../src/index.js';
import { fixtureBot, install, newToken } from './support/installation.js';

const PROBLEM_BOT = fileURLToPath(new URL('./fixtures/event-listener-bot.js', import.meta.url));
const FAST = { pingIntervalMs: 300, hungAfterMs: 3000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 100, stopGraceMs: 3000 };

async function health(url: string): Promise<{ code: number; body: { status: string; bots: Array<{ name: string; problem: string | null }> } }> {
  const res = await fetch(`${url}/health`);
  return { code: res.status, body: (await res.json()) as { status: string; bots: Array<{ name: string; problem: string | null }> } };
}

describe("a bot's problem", function () {
  this.timeout(60_000);
  const bed = useTestbed();

  it('is what the bot reports: in status, as a 503 from /health and as an event; it clears when the bot says so, and dies with its process', async () => {
    const dir = bed.temp.make('botvisor-problem-');
    const inst = install(bed.temp, bed.sim, [fixtureBot('worker', newToken()), fixtureBot('fine', newToken())], FAST);
    const config = loadConfig(inst.configFile);
    const logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' });
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger, botEntry: PROBLEM_BOT, env: { ...process.env, FIXTURE_EVENTS_DIR: dir } });
    bed.onCleanup(() => sup.stop());
    await sup.waitReady(20_000);
    const url = (await sup.status()).supervisor.httpUrl as string;
    const worker = sup.bots.get('worker') as ManagedBot;
    expect((await health(url)).code).to.equal(200);

    const sentence = 'another process outside this supervisor is polling this token: 37 conflicts in the last 60 s';
    writeFileSync(path.join(dir, 'worker.problem'), sentence);
    await waitFor(() => worker.status().problem === sentence, { timeoutMs: 10_000, what: 'the problem in status' });
    expect(worker.state, 'a bot with a problem can still be ready').to.equal('ready');
    const degraded = await health(url);
    expect(degraded.code).to.equal(503);
    expect(degraded.body.bots.find((b) => b.name === 'worker')?.problem).to.equal(sentence);
    expect(degraded.body.bots.find((b) => b.name === 'fine')?.problem).to.equal(null);
    expect(sup.events.recent().some((e) => e.kind === 'problem' && e.bot === 'worker' && e.message.includes(sentence))).to.equal(true);

    rmSync(path.join(dir, 'worker.problem'));
    await waitFor(() => worker.status().problem === null, { timeoutMs: 10_000, what: 'the problem to clear' });
    expect((await health(url)).code).to.equal(200);
    expect(sup.events.recent().some((e) => e.kind === 'problem-cleared' && e.bot === 'worker')).to.equal(true);

    // The report lives as long as the process that made it.
    writeFileSync(path.join(dir, 'worker.problem'), sentence);
    await waitFor(() => worker.status().problem === sentence, { timeoutMs: 10_000, what: 'the problem again' });
    rmSync(path.join(dir, 'worker.problem'));
    const old = worker.pid as number;
    process.kill(old, 'SIGKILL');
    await waitFor(() => worker.state !== 'ready' || worker.pid !== old, { timeoutMs: 10_000, what: 'the kill to be seen' });
    expect(worker.status().problem).to.equal(null);
  });

  it('a poller outside the supervisor on the token (real runtime, simulator): the bot says so within seconds, and it clears within 30 s of that poller stopping', async function () {
    this.timeout(90_000);
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], FAST);
    const config = loadConfig(inst.configFile);
    const logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' });
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger });
    bed.onCleanup(() => sup.stop());
    await sup.waitReady(20_000);
    const url = (await sup.status()).supervisor.httpUrl as string;
    const main = sup.bots.get('main') as ManagedBot;

    // The rogue: a bare getUpdates loop on the same token, as a copy of the bot on a laptop would run.
    const rogue = new AbortController();
    const rogueLoop = (async () => {
      while (!rogue.signal.aborted) {
        await fetch(`${bed.sim.url}/bot${token}/getUpdates?timeout=5`, { signal: rogue.signal }).then((r) => r.arrayBuffer(), () => undefined);
      }
    })();
    bed.onCleanup(async () => {
      rogue.abort();
      await rogueLoop;
    });

    const raised = await waitFor(() => main.status().problem ?? undefined, { timeoutMs: 30_000, what: 'the conflict problem' });
    expect(raised).to.match(/^another process outside this supervisor is polling this token: \d+ conflicts in the last \d+ s; stop it, or give one of the two its own token$/);
    expect(main.state, 'it still runs: the problem is what it cannot do').to.equal('ready');
    const degraded = await health(url);
    expect(degraded.code).to.equal(503);
    expect(degraded.body.bots.find((b) => b.name === 'main')?.problem).to.equal(raised);
    expect(sup.events.recent().some((e) => e.kind === 'problem' && e.bot === 'main' && e.message === `bot main: ${raised}`)).to.equal(true);

    rogue.abort();
    await rogueLoop;
    const stoppedAt = Date.now();
    await waitFor(() => main.status().problem === null, { timeoutMs: 40_000, what: 'the problem to clear after the rogue poller stopped' });
    expect(Date.now() - stoppedAt, 'cleared within 30 s of the rogue stopping').to.be.below(30_000);
    expect((await health(url)).code).to.equal(200);
    expect(sup.events.recent().some((e) => e.kind === 'problem-cleared' && e.bot === 'main')).to.equal(true);
  });
});

describe('a built-in bot whose implementation is not installed', function () {
  this.timeout(30_000);
  const bed = useTestbed();

  it('is errored with the reason as its problem; the supervisor still starts the others', async () => {
    const inst = install(bed.temp, bed.sim, [{ name: 'bridge', kind: 'bridge', token: newToken(), allow: [1] }, fixtureBot('fine', newToken())], FAST);
    const config = loadConfig(inst.configFile);
    const logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' });
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger, botEntry: PROBLEM_BOT, builtinModules: {}, env: { ...process.env, FIXTURE_EVENTS_DIR: bed.temp.make('botvisor-problem-') } });
    bed.onCleanup(() => sup.stop());
    const bridge = sup.bots.get('bridge') as ManagedBot;
    expect(bridge.state).to.equal('errored');
    expect(bridge.status().problem).to.equal('no implementation of kind "bridge" is installed');
    await waitFor(() => sup.bots.get('fine')?.state === 'ready', { timeoutMs: 20_000, what: 'the other bot to be ready' });
    bridge.start('try again');
    expect(bridge.state, 'starting it again changes nothing').to.equal('errored');
  });
});
