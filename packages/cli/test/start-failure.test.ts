/**
 * A bot that cannot start says why, fast (issue 14, item 4), with real processes: `start --detach`
 * returns within 20 s with the cause and exit 1, the bot is errored with that cause as its
 * problem (status --json, the status table, doctor), and `logs <bot>` shows what it printed.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusReport } from '@botvisor/supervisor';
import { fakeToken, useTestbed } from '@botvisor/testkit';
import { expect } from 'chai';
import { type CliRun, runCli } from './support/run-cli.js';

const ECHO_BOT = fileURLToPath(new URL('./fixtures/echo-bot.js', import.meta.url));

interface Case {
  what: string;
  /** The module's source (an .mjs written to the test's folder), or undefined for the echo fixture. */
  source?: string;
  /** The Bot API refuses this bot's token (the simulator answers 401 to its every call). */
  revokedToken?: boolean;
  /** What the problem (and the start --detach message) must say. */
  problem: RegExp;
  /** What `logs <bot>` must show of the bot's stderr. */
  logged: RegExp;
}

const CASES: Case[] = [
  {
    what: 'a module that throws at import',
    source: "throw new Error('the fixture refuses to load: DATABASE_URL is not set');\n",
    problem: /^start-up failed: the module .*bot\.mjs threw while loading: the fixture refuses to load: DATABASE_URL is not set \(3 failed starts in a row\); fix it, then run 'botvisor restart main' \(it is also tried again every 5 min\)$/,
    logged: /the fixture refuses to load: DATABASE_URL is not set/,
  },
  {
    what: 'a module that imports a missing package',
    source: "import 'botvisor-no-such-package';\nexport default {};\n",
    problem: /^start-up failed: the module .*bot\.mjs imports something that cannot be found: .*Cannot find package 'botvisor-no-such-package'.*; install it or fix the import; fix it, then run 'botvisor restart main' \(it is also tried again every 5 min\)$/,
    logged: /Cannot find package 'botvisor-no-such-package'/,
  },
  {
    what: 'a module without a default export',
    source: 'export const notABot = 1;\n',
    problem: /^start-up failed: the module .*bot\.mjs has no default export \(expected `export default defineBot\(…\)`\); fix it, then run 'botvisor restart main' \(it is also tried again every 5 min\)$/,
    logged: /has no default export/,
  },
  {
    what: 'a bad token',
    revokedToken: true,
    problem: /^start-up failed: the Bot API refused the token at deleteWebhook \(401 Unauthorized\); check it with @BotFather and fix the config; fix it, then run 'botvisor restart main' \(it is also tried again every 5 min\)$/,
    logged: /the Bot API refused the token at deleteWebhook/,
  },
];

describe('a bot that cannot start (real processes)', function () {
  this.timeout(90_000);
  const bed = useTestbed();

  const botvisor = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => runCli(bed.tracker, args, env);

  for (const c of CASES) {
    it(`${c.what}: errored within 20 s with the cause as its problem; start --detach says it and exits 1; logs shows its stderr; doctor fails`, async () => {
      const dir = bed.temp.make('botvisor-startfail-');
      let module = ECHO_BOT;
      if (c.source !== undefined) {
        module = path.join(dir, 'bot.mjs');
        writeFileSync(module, c.source);
      }
      const token = fakeToken();
      if (c.revokedToken === true) await bed.sim.client.addFault({ method: '*', token, times: 1000, fail: { error_code: 401, description: 'Unauthorized' } });
      const config = path.join(dir, 'botvisor.json');
      writeFileSync(config, JSON.stringify({ apiRoot: bed.sim.url, http: { port: 0 }, supervisor: { stopGraceMs: 3000 }, bots: [{ name: 'main', module, token }] }));
      bed.onCleanup(async () => void (await botvisor(['stop', '-c', config])));

      const began = Date.now();
      const started = await botvisor(['start', '--detach', '-c', config]);
      const tookMs = Date.now() - began;
      expect(started.code, started.stderr).to.equal(1);
      expect(tookMs, 'start --detach returned within 20 s').to.be.below(20_000);
      const [said] = started.stderr.split('\n');
      expect(said).to.match(/^botvisor: bot main failed to start: /);

      const report = JSON.parse((await botvisor(['status', '--json', '-c', config])).stdout) as StatusReport;
      const main = report.bots.find((b) => b.name === 'main');
      expect(main?.state).to.equal('errored');
      expect(main?.problem).to.match(c.problem);
      expect(said).to.include(main?.problem as string);
      expect(started.stderr).to.include('botvisor logs main');

      const table = await botvisor(['status', '-c', config]);
      expect(table.stdout).to.include(`problems:\n  main: ${main?.problem}`);

      const logs = await botvisor(['logs', 'main', '-c', config]);
      expect(logs.code, logs.stderr).to.equal(0);
      expect(logs.stdout).to.match(c.logged);
      expect(logs.stdout).to.match(/WARNING main\.output: .*stream=stderr/);

      const doctor = await botvisor(['doctor', '-c', config]);
      expect(doctor.code).to.equal(1);
      expect(doctor.stdout).to.include(`✗ bot main (errored): ${main?.problem}`);
    });
  }
});
