/**
 * The shipped bot process is a bundle whose entries share their chunks: a bot module's
 * `import { … } from '@botvisor/runtime'` and the `botvisor-bot` entry that loads it run one copy of
 * each class, so the entry's `instanceof ConfigError` sees the error a bot's setup throws.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { useTestbed } from '@botvisor/testkit';
import { expect } from 'chai';
import { EXIT_CONFIG } from '../src/index.js';
import { BOT_BIN, install, newToken, startBot } from './support/bot-harness.js';

describe('the shipped bot bundle', () => {
  const bed = useTestbed();

  it('runs the bundle, and a ConfigError from the package import exits 78 (one copy of the class)', async () => {
    expect(BOT_BIN).to.match(/\/dist\/bundle\/bot\.js$/);
    const dir = bed.temp.make('botvisor-shipped-');
    const module = path.join(dir, 'config-error-bot.mjs');
    // As a user writes it, with the package's import resolved to the file it exports (the module sits outside node_modules' reach).
    writeFileSync(
      module,
      `import { ConfigError, defineBot } from '${import.meta.resolve('@botvisor/runtime')}';
export default defineBot(() => { throw new ConfigError('bots[0].options', [{ path: 'greeting', message: 'must be set' }]); });
`,
    );
    const bot = startBot(bed.tracker, install(bed.temp, bed.sim, { token: newToken(), module }), { ipc: false });
    expect(await bot.exited()).to.equal(EXIT_CONFIG);
    expect(bot.stderr).to.include('greeting: must be set');
  });
});
