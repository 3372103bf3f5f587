/**
 * What a bot process does not load at start (issue 18, idle RSS): the PostgreSQL client waits for
 * cluster mode, and the sessions folder is `@botvisor/runtime/sessions`, not part of the index.
 * Imports in a fresh Node process and lists the CommonJS packages in `require.cache` (an ESM
 * import of a CommonJS package lands there too).
 */
import { loadedPackages } from '@botvisor/testkit';
import { expect } from 'chai';
import * as runtime from '../src/index.js';
import * as sessions from '../src/sessions/index.js';

const DIST = new URL('../src/', import.meta.url).href;

describe('bot start-up imports', () => {
  it('loads no PostgreSQL client with the runtime and its start-up', function () {
    this.timeout(20_000);
    const loaded = loadedPackages(`import '${DIST}index.js';
import '${DIST}lifecycle/run-bot.js';`);
    expect(loaded).to.include('winston'); // the probe sees what is loaded
    expect(loaded).not.to.include('pg');
  });

  it('exports sessions from their own entry, not from the index', () => {
    expect(sessions.SessionManager).to.be.a('function');
    expect('SessionManager' in runtime).to.equal(false);
  });
});
