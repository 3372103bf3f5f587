/**
 * What a bot process does not load at start (issue 18, idle RSS): the PostgreSQL client waits for
 * cluster mode, and the sessions folder is `@botvisor/runtime/sessions`, not part of the index.
 * Checked on what ships — the bundles (scripts/build/bundle.js): in a fresh Node process, which
 * lists the CommonJS packages in `require.cache` (an ESM import of one lands there too), and in
 * the bundle's import graph, which shows the PostgreSQL client is in it, only behind a dynamic
 * import. Also on tsc's output, where the probe's own sight is shown (winston loads from node_modules).
 */
import { bundleStartup, loadedPackages } from '@botvisor/testkit';
import { expect } from 'chai';
import * as runtime from '../src/index.js';
import * as sessions from '../src/sessions/index.js';

const DIST = new URL('../src/', import.meta.url).href;
const BUNDLE = new URL('../bundle/', import.meta.url);

describe('bot start-up imports', () => {
  it('loads no PostgreSQL client with the shipped runtime and its start-up', function () {
    this.timeout(20_000);
    expect(import.meta.resolve('@botvisor/runtime')).to.equal(new URL('index.js', BUNDLE).href); // the probe runs the bundle
    expect(loadedPackages(`import '@botvisor/runtime';`)).not.to.include('pg');
  });

  it('keeps the PostgreSQL client and the sessions out of the bundle start-up graph, pg behind a dynamic import', () => {
    for (const entry of ['bot.js', 'index.js']) {
      const startup = bundleStartup(BUNDLE.pathname, entry);
      expect(startup.allPackages, entry).to.include('pg');
      expect(startup.packages, entry).not.to.include('pg');
      expect(startup.files, entry).not.to.include('sessions.js');
    }
  });

  it('loads no PostgreSQL client with tsc output of the runtime and its start-up', function () {
    this.timeout(20_000);
    const loaded = loadedPackages(`import '${DIST}index.js';
import '${DIST}lifecycle/run-bot.js';`);
    expect(loaded).to.include('winston'); // the probe sees what is loaded
    expect(loaded).not.to.include('pg');
  });

  it('exports sessions from their own entry, not from the index', async () => {
    expect(sessions.SessionManager).to.be.a('function');
    expect('SessionManager' in runtime).to.equal(false);
    const shipped = await import('@botvisor/runtime');
    const shippedSessions = await import('@botvisor/runtime/sessions');
    expect(shippedSessions.SessionManager).to.be.a('function');
    expect('SessionManager' in shipped).to.equal(false);
  });
});
