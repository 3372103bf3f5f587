import { createLogger, descendants, isDeadState, killTree, loadConfig } from '@botvisor/core';
import { usePostgres, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { DashboardState } from '../src/dashboard/dashboard-types.js';
import { Supervisor } from '../src/index.js';
import { json, request } from './fixtures/dashboard-http.js';
import { fixtureBot, type Installation, install, newToken } from './support/installation.js';

const FAST = { pingIntervalMs: 500, hungAfterMs: 5000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 100, stopGraceMs: 3000 };
const CLUSTER = { postgresEnv: 'BOTVISOR_TEST_PG', leaseMs: 3000, renewMs: 500 };
/** Debian's Chromium (.ci/run installs it), with everything that would phone home off, as in dashboard-browser.test.ts. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('dashboard in cluster mode: who is active per token (two nodes, a throwaway PostgreSQL, Chromium)', function () {
  this.timeout(120_000);
  const bed = useTestbed();
  const pg = usePostgres();
  let context: BrowserContext | undefined;

  /**
   * Chromium must be gone, and before the testbed removes its profile folder (a live Chromium still
   * writes there, and the removal fails): the suite's root hook fails the run on any leftover descendant.
   */
  async function closeChromium(): Promise<void> {
    await context?.close().catch(() => undefined);
    context = undefined;
    for (const p of descendants(process.pid).filter((d) => !isDeadState(d.state) && /chrom/i.test(d.command))) await killTree(p, { graceMs: 500, deadlineMs: 5000 });
  }

  function node(name: string, token: string): Installation {
    return install(bed.temp, bed.sim, [fixtureBot('main', token), fixtureBot('notifier', token)], FAST, { config: { cluster: { ...CLUSTER, node: name } } });
  }

  async function startNode(inst: Installation): Promise<Supervisor> {
    const env = { ...process.env, BOTVISOR_TEST_PG: pg.db.url() };
    const config = loadConfig(inst.configFile, { env });
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger: createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' }), env });
    bed.onCleanup(() => sup.stop());
    return sup;
  }

  async function stateOf(sup: Supervisor): Promise<DashboardState> {
    return json<DashboardState>(await request(`${sup.http?.url as string}/api/state`));
  }

  async function openPage(url: string): Promise<Page> {
    bed.onCleanup(closeChromium); // the test's cleanups run before the testbed's own teardown
    context = await chromium.launchPersistentContext(bed.temp.make('botvisor-chromium-'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1366, height: 900 } });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(url);
    return page;
  }

  it("the snapshot carries each token's role, active node, epoch and lease expiry; the card and the locks table show them and follow a change of active node", async () => {
    const token = newToken();
    const supA = await startNode(node('host-a', token));
    await supA.waitReady(20_000);
    const supB = await startNode(node('host-b', token));
    await waitFor(async () => (await stateOf(supB)).locks[0]?.cluster?.holder === 'host-a', { timeoutMs: 10_000, what: "host-b's dashboard to see host-a holding the lease" });

    const standby = (await stateOf(supB)).locks;
    expect(standby.map((l) => l.bot), 'the send-only bot has no lock').to.deep.equal(['main']);
    expect(standby[0]?.cluster).to.deep.include({ node: 'host-b', role: 'standby', holder: 'host-a', epoch: 1, error: null });
    expect(standby[0]?.cluster?.leaseExpiresInMs).to.be.within(0, CLUSTER.leaseMs);
    expect((await stateOf(supA)).locks[0]?.cluster).to.deep.include({ node: 'host-a', role: 'active', holder: 'host-a', epoch: 1 });

    const page = await openPage(supB.http?.url as string);
    const card = page.locator('[data-bot="main"][data-cluster-role="standby"]');
    await card.waitFor({ timeout: 20_000 });
    expect(await card.locator('[data-field="cluster"]').textContent()).to.match(/^standby on this node \(host-b\) · active: host-a · epoch 1 · lease ends in \d+\.\d s unless renewed$/);
    expect(await page.locator('[data-bot="notifier"] [data-field="cluster"]').isVisible(), 'a send-only bot polls nothing: no cluster line').to.equal(false);
    expect(await page.locator('#lock-cluster-col').isVisible()).to.equal(true);
    expect(await page.locator('[data-lock-bot="main"] [data-field="cluster"]').textContent()).to.equal('host-a active, epoch 1');

    await supA.stop(); // ends its lease at once: host-b takes over at its next try
    const active = page.locator('[data-bot="main"][data-cluster-role="active"]');
    await active.waitFor({ timeout: 20_000 });
    expect(await active.locator('[data-field="cluster"]').textContent()).to.match(/^active on this node \(host-b\) · epoch 2 · lease ends in \d+\.\d s unless renewed$/);
    await page.locator('[data-lock-bot="main"] [data-field="cluster"]', { hasText: 'host-b active, epoch 2' }).waitFor({ timeout: 10_000 });
    await page.locator('#event-list li[data-kind="cluster-active"]', { hasText: 'from node host-a' }).waitFor({ timeout: 10_000 });
  });

  it('on one machine the snapshot has no cluster facts and the page shows none', async () => {
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', newToken())], FAST);
    const config = loadConfig(inst.configFile);
    const sup = await Supervisor.start({ config, configFile: inst.configFile, logger: createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' }) });
    bed.onCleanup(() => sup.stop());
    await sup.waitReady(20_000);
    expect((await stateOf(sup)).locks[0]?.cluster).to.equal(null);
    const page = await openPage(sup.http?.url as string);
    await page.locator('[data-bot="main"][data-state="ready"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-bot="main"]').getAttribute('data-cluster-role')).to.equal(null);
    expect(await page.locator('[data-bot="main"] [data-field="cluster"]').isVisible()).to.equal(false);
    expect(await page.locator('#lock-cluster-col').isVisible()).to.equal(false);
  });
});
