import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SimHandle, startSim } from '@botvisor/bot-api-sim';
import { SimSandboxChat } from '@botvisor/cli';
import { createLogger, descendants, isAlive, isDeadState, killTree, loadConfig, refOf } from '@botvisor/core';
import { TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { Supervisor } from '../src/index.js';
import { fixtureBot, install, newToken } from './support/installation.js';

const HELP_BOT = fileURLToPath(new URL('./fixtures/help-bot.js', import.meta.url));
/** `<repo>/artifacts/` (git-ignored), from `packages/supervisor/dist/test/`. */
const ARTIFACTS = fileURLToPath(new URL('../../../../artifacts/', import.meta.url));
const USER = { id: 1001, first_name: 'Ada' };
const FAST = { pingIntervalMs: 500, hungAfterMs: 5000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 100, stopGraceMs: 3000, scanIntervalMs: 200 };
/** Debian's Chromium, installed by .ci/run; this machine has no network, so everything that would phone home is off. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

describe('dashboard in Chromium (live fleet, sandbox chat, restart, stop a job)', function () {
  this.timeout(120_000);
  const temp = new TempDirs();
  let sim: SimHandle;
  let sup: Supervisor | undefined;
  let context: BrowserContext | undefined;

  async function startFleet(): Promise<{ sup: Supervisor; token: string }> {
    const token = newToken();
    const inst = install(temp, sim, [{ name: 'bridge', module: HELP_BOT, token }, fixtureBot('alerts-out', token), fixtureBot('worker', newToken())], FAST);
    const config = loadConfig(inst.configFile);
    const logger = createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' });
    sup = await Supervisor.start({ config, configFile: inst.configFile, logger, sandbox: new SimSandboxChat({ bot: sim.client.bot(token), user: USER, chatId: USER.id }), historySampleMs: 300 });
    await sup.waitReady(30_000);
    return { sup, token };
  }

  async function openPage(url: string, viewport: { width: number; height: number }): Promise<Page> {
    context = await chromium.launchPersistentContext(temp.make('botvisor-chromium-'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport });
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(url);
    (page as Page & { problems?: string[] }).problems = problems;
    return page;
  }

  const problemsOf = (page: Page): string[] => (page as Page & { problems?: string[] }).problems ?? [];

  async function screenshot(page: Page, name: string, viewport: { width: number; height: number }): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  }

  beforeEach(async () => {
    sim = await startSim();
  });
  afterEach(async () => {
    await context?.close().catch(() => undefined);
    context = undefined;
    // Chromium must be gone: the suite's root hook fails the run on any leftover descendant.
    for (const p of descendants(process.pid).filter((d) => !isDeadState(d.state) && /chrom/i.test(d.command))) await killTree(p, { graceMs: 500, deadlineMs: 5000 });
    await sup?.stop();
    sup = undefined;
    await sim.close();
    temp.removeAll();
  });

  it('shows every bot ready, answers /help, shows an edit in place and the terminal\'s messages, taps a button, charts the traffic, stops a CLI job after a confirmation, and writes screenshots', async () => {
    const { sup, token } = await startFleet();
    const page = await openPage(sup.dashboardLoginUrl() as string, DESKTOP);

    for (const name of ['bridge', 'alerts-out', 'worker']) await page.locator(`[data-bot="${name}"][data-state="ready"]`).waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-bot="bridge"] [data-field="state"]').textContent()).to.equal('ready');
    expect(await page.locator('[data-bot="alerts-out"] [data-field="polling"]').textContent()).to.equal('no (send-only)');
    await page.getByText('live', { exact: true }).waitFor();
    expect(await page.locator('#lock-rows tr').count()).to.equal(2);
    expect(await page.locator('#event-list li[data-kind="ready"]').count()).to.equal(3);

    // The chat panel: /help gets its reply.
    const chat = page.getByRole('region', { name: 'Sandbox chat' });
    await chat.getByLabel('Message to the bot').fill('/help');
    await chat.getByRole('button', { name: 'Send' }).click();
    await chat.locator('.from-user', { hasText: '/help' }).waitFor();
    const help = chat.locator('.from-bot', { hasText: '/help: this list' });
    await help.waitFor({ timeout: 20_000 });
    expect(await help.locator('.msg-text').textContent()).to.match(/^Commands:\n\/help: this list\n\/edit/);

    // An edit replaces the message's text in place.
    await chat.getByLabel('Message to the bot').fill('/edit');
    await chat.getByLabel('Message to the bot').press('Enter');
    const edited = chat.locator('.from-bot[data-edited="true"]');
    await edited.waitFor({ timeout: 20_000 });
    expect(await edited.locator('.msg-text').textContent()).to.equal('done: edited once');
    expect(await chat.locator('.from-bot').count(), 'the edit is not a new message').to.equal(2);
    expect(await chat.locator('.from-bot', { hasText: 'working…' }).count()).to.equal(0);

    // A button under a bot message is tappable: the tap reaches the bot, which answers and edits.
    await chat.getByLabel('Message to the bot').fill('/ask');
    await chat.getByLabel('Message to the bot').press('Enter');
    const question = chat.locator('.from-bot', { hasText: 'Yes or no?' });
    await question.waitFor({ timeout: 20_000 });
    await question.getByRole('button', { name: 'Yes' }).click();
    await chat.locator('.from-bot[data-edited="true"]', { hasText: 'You chose yes' }).waitFor({ timeout: 20_000 });
    await chat.locator('.chat-action', { hasText: 'button answer: yes!' }).waitFor({ timeout: 10_000 });

    // What the person types in `botvisor chat` (another client of the simulator) shows here too.
    sim.users.sendCommand(token, { user: USER, command: 'help', args: 'from the terminal' });
    await chat.locator('.from-user', { hasText: '/help from the terminal' }).waitFor({ timeout: 20_000 });

    // The history charts have points once the bot has handled updates.
    const updates = page.locator('[data-bot="bridge"] figure[data-chart="updates"]');
    await waitFor(async () => Number(await updates.getAttribute('data-max')) > 0, { timeoutMs: 20_000, what: 'the updates/s chart to show the traffic' });
    expect(Number(await updates.getAttribute('data-points'))).to.be.above(0);
    expect(await page.locator('[data-bot="bridge"] figure[data-chart="rss"] canvas').count()).to.equal(1);

    // A CLI job shows in the bot's card as a child and stops from there.
    await chat.getByLabel('Message to the bot').fill('/job');
    await chat.getByLabel('Message to the bot').press('Enter');
    const jobReply = chat.locator('.from-bot', { hasText: /^job pid \d+/ });
    await jobReply.waitFor({ timeout: 20_000 });
    const jobPid = Number((await jobReply.locator('.msg-text').textContent())?.split(' ')[2]);
    const jobRef = refOf(jobPid);
    if (jobRef === undefined) throw new Error(`job ${jobPid} is not running`);
    try {
      const stop = page.getByRole('button', { name: `Stop sleep (pid ${jobPid}) of bridge` });
      await stop.waitFor({ timeout: 10_000 });
      await page.locator('[data-bot="bridge"] details.log summary').click();
      await page.locator('[data-bot="bridge"] .log-lines li').first().waitFor();

      await screenshot(page, 'dashboard.png', DESKTOP);
      await screenshot(page, 'dashboard-phone.png', PHONE);
      await page.setViewportSize(DESKTOP);

      await stop.click();
      // The first click only asks.
      await page.locator(`[data-pid="${jobPid}"] button`, { hasText: 'Confirm stop' }).waitFor({ timeout: 5000 });
      expect(isAlive(jobRef), 'not stopped before the confirmation').to.equal(true);
      await stop.click();
      await waitFor(() => !isAlive(jobRef), { timeoutMs: 10_000, what: 'the stopped job to be dead' });
      await page.locator('[data-bot="bridge"] .children', { hasText: 'none running' }).waitFor({ timeout: 10_000 });
      await page.locator('#toast', { hasText: `Stopped sleep (pid ${jobPid})` }).waitFor({ timeout: 10_000 });
    } finally {
      if (isAlive(jobRef)) await killTree(jobRef, { graceMs: 200 });
    }
    expect(sup.bots.get('bridge')).to.include({ state: 'ready', restarts: 0 });
    expect(problemsOf(page), 'errors in the page').to.deep.equal([]);
  });

  it('clicking Restart on a bot makes its restarts go up and its state return to ready', async () => {
    const { sup } = await startFleet();
    const page = await openPage(sup.dashboardLoginUrl() as string, PHONE);
    const card = page.locator('[data-bot="worker"]');
    await page.locator('[data-bot="worker"][data-state="ready"]').waitFor({ timeout: 20_000 });
    expect(await card.locator('[data-field="restarts"]').textContent()).to.equal('0');
    const pidBefore = await card.locator('[data-field="pid"]').textContent();

    await page.getByRole('button', { name: 'Restart worker' }).click();
    await page.locator('[data-bot="worker"] [data-field="restarts"]', { hasText: /^1$/ }).waitFor({ timeout: 30_000 });
    await page.locator('[data-bot="worker"][data-state="ready"]').waitFor({ timeout: 30_000 });
    await page.locator('#toast', { hasText: 'worker restarted and is ready' }).waitFor({ timeout: 30_000 });
    expect(await card.locator('[data-field="pid"]').textContent()).to.not.equal(pidBefore);
    expect(await page.locator('#event-list li[data-kind="restarted"]').count()).to.be.at.least(1);
    expect(sup.bots.get('worker')?.restarts).to.equal(1);
    expect(sup.bots.get('bridge')?.restarts, 'the other bots were left alone').to.equal(0);

    // Stop (after a confirmation) and Start again.
    const power = page.getByRole('button', { name: 'Stop worker', exact: true });
    await power.click();
    await power.click();
    await page.locator('[data-bot="worker"][data-state="stopped"]').waitFor({ timeout: 30_000 });
    expect(sup.bots.get('bridge')?.state).to.equal('ready');
    await page.getByRole('button', { name: 'Start worker', exact: true }).click();
    await page.locator('[data-bot="worker"][data-state="ready"]').waitFor({ timeout: 30_000 });
    await page.locator('#toast', { hasText: 'worker started and is ready' }).waitFor({ timeout: 30_000 });
    expect(problemsOf(page), 'errors in the page').to.deep.equal([]);
  });

  it("shows a bot's problem on its card, the same sentence as status, and the count in the summary", async () => {
    const broken = path.join(temp.make('botvisor-broken-'), 'bot.mjs');
    writeFileSync(broken, 'export const notABot = 1;\n');
    const inst = install(temp, sim, [fixtureBot('worker', newToken()), { name: 'broken', module: broken, token: newToken() }], FAST);
    const config = loadConfig(inst.configFile);
    sup = await Supervisor.start({ config, configFile: inst.configFile, logger: createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' }) });
    await waitFor(() => sup?.bots.get('broken')?.state === 'errored', { timeoutMs: 20_000, what: 'the broken bot to be errored' });
    const problem = sup.bots.get('broken')?.status().problem as string;
    expect(problem).to.include('has no default export');
    const page = await openPage(sup.http?.url as string, DESKTOP);
    const card = page.locator('[data-bot="broken"][data-problem="yes"]');
    await card.waitFor({ timeout: 20_000 });
    expect(await card.locator('[data-field="problem"]').textContent()).to.equal(problem);
    await page.locator('[data-bot="worker"][data-state="ready"][data-problem="no"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-bot="worker"] [data-field="problem"]').isVisible()).to.equal(false);
    expect(await page.locator('#fleet-summary').textContent()).to.include('1 with a problem');
    expect(problemsOf(page), 'errors in the page').to.deep.equal([]);
  });
});
