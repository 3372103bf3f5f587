/**
 * What the supervisor does not load at start (issue 18, idle RSS): prom-client (with OpenTelemetry's
 * API) waits for the first /metrics scrape, and the PostgreSQL client for cluster mode. Each case
 * imports in a fresh Node process and lists the CommonJS packages in `require.cache` (an ESM
 * import of a CommonJS package lands there too). What ships — the daemon's bundle and the CLI's,
 * whose `botvisor start` hosts the supervisor — is checked in the bundles' import graphs: both
 * packages are in them, behind a dynamic import only. Also: the counts made before that first
 * scrape are in it, in Prometheus text.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleStartup, loadedPackages } from '@botvisor/testkit';
import { expect } from 'chai';
import { SupervisorMetrics } from '../src/http/metrics.js';

const DIST = new URL('../src/', import.meta.url).href;
const LAZY = ['prom-client', 'pg'];

describe('supervisor start-up imports', () => {
  it('loads neither prom-client nor pg with the supervisor, and prom-client on the first scrape', function () {
    this.timeout(20_000);
    const atStart = loadedPackages(`import '${DIST}supervisor.js';
import { SupervisorMetrics } from '${DIST}http/metrics.js';
const m = new SupervisorMetrics(() => []);
m.onRestart('main', 'crash');`);
    expect(atStart).to.include('winston'); // the probe sees what is loaded
    expect(atStart).not.to.include('prom-client');
    expect(atStart).not.to.include('@opentelemetry/api');
    expect(atStart).not.to.include('pg');
    const afterScrape = loadedPackages(`import { SupervisorMetrics } from '${DIST}http/metrics.js';
await new SupervisorMetrics(() => []).text();`);
    expect(afterScrape).to.include('prom-client');
  });

  it('keeps prom-client and pg out of the start-up of the shipped daemon and of botvisor start', () => {
    const daemon = fileURLToPath(import.meta.resolve('@botvisor/supervisor/daemon'));
    const cli = fileURLToPath(import.meta.resolve('@botvisor/cli/bin'));
    for (const entry of [daemon, cli]) {
      const startup = bundleStartup(path.dirname(entry), path.basename(entry));
      for (const name of LAZY) {
        expect(startup.allPackages, `${entry} uses ${name}`).to.include(name);
        expect(startup.packages, `${entry} loads ${name} at start`).not.to.include(name);
      }
    }
    // `botvisor start` loads its command's chunk on demand: the supervisor comes with it, the lazy packages still do not.
    const cliBundle = path.dirname(cli);
    const startChunks = bundleStartup(cliBundle, path.basename(cli)).files;
    const meta = JSON.parse(readFileSync(path.join(cliBundle, 'metafile.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const startCommand = Object.entries(meta.outputs).find(([, out]) => Object.keys(out.inputs).some((i) => i.endsWith('dist/src/commands/start.js')))?.[0];
    expect(startCommand, 'the start command is in a chunk of its own').to.be.a('string');
    expect(startChunks).not.to.include(path.basename(startCommand as string));
    const start = bundleStartup(cliBundle, path.basename(startCommand as string));
    for (const name of LAZY) expect(start.packages, `botvisor start loads ${name}`).not.to.include(name);
  });

  it('serves what was counted before the first scrape, with the process metrics', async () => {
    const m = new SupervisorMetrics(() => [{ name: 'main', state: 'ready' }]);
    m.onRestart('main', 'crash');
    m.onRestart('main', 'crash');
    m.onConflict('main');
    const text = await m.text();
    expect(text).to.match(/^# TYPE botvisor_restarts_total counter$/m);
    expect(text).to.match(/^botvisor_restarts_total\{bot="main",cause="crash"\} 2$/m);
    expect(text).to.match(/^botvisor_conflicts_total\{bot="main"\} 1$/m);
    expect(text).to.match(/^# TYPE botvisor_bot_state gauge$/m);
    expect(text).to.match(/^botvisor_bot_state\{bot="main",state="ready"\} 1$/m);
    expect(text).to.match(/^process_cpu_user_seconds_total /m);
    // The event-loop monitor starts with the registry: without a sample yet its mean is the format's NaN (prom-client writes `Nan`).
    expect(text).to.match(/^nodejs_eventloop_lag_mean_seconds (NaN|[0-9.e+-]+)$/m);
    expect(text).not.to.match(/ Nan$/m);
    m.onRestart('main', 'crash');
    expect(await m.text()).to.match(/^botvisor_restarts_total\{bot="main",cause="crash"\} 3$/m);
    expect(m.contentType).to.equal('text/plain; version=0.0.4; charset=utf-8');
  });
});
