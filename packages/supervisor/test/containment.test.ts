/**
 * Process containment (containment/): a job's descendant that leaves everything botvisor can see
 * — its own session, an empty environment (no tree cookie), re-parented to init — still ends with
 * its bot, where the machine offers a writable cgroup v2 group; where it does not, the supervisor
 * says which weaker guarantee holds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive, refOf } from '@botvisor/core';
import { exited, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { controlRequest, controlSocketPath, type StatusReport, treeContainment } from '../src/index.js';
import { DAEMON, fixtureBot, install, newToken } from './support/installation.js';

const USER = { id: 1001, first_name: 'Ada' };

/** Processes whose command line is exactly `sleep <secs>`. */
function sleepers(secs: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8') === `sleep\0${secs}\0`;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('process containment (supervisor daemon, real processes)', function () {
  this.timeout(120_000);
  const bed = useTestbed();

  it('a job that clears its environment and leaves its session ends with its bot', async function () {
    const token = newToken();
    const inst = install(bed.temp, bed.sim, [fixtureBot('main', token)], { stopGraceMs: 2000 });
    const d = bed.tracker.spawn(process.execPath, [DAEMON, '--config', inst.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitFor(async () => (await controlRequest<StatusReport>(controlSocketPath(inst.dataDir), { cmd: 'status' }, 5000).catch(() => undefined))?.bots[0]?.state === 'ready', { timeoutMs: 30_000, what: 'the bot to be ready' });
    const log = (): string => readFileSync(path.join(inst.logDir, 'supervisor.log'), 'utf8');
    if (!treeContainment().contained) {
      expect(log()).to.include('tracked by the tree cookie only');
      d.kill('SIGTERM');
      await exited(d);
      this.skip(); // no writable cgroup v2 group here: the weaker guarantee is stated (checked above)
    }
    const secs = String(6000 + Math.floor(Math.random() * 999));
    const { cursor } = bed.sim.users.sendCommand(token, { user: USER, command: 'escape', args: secs });
    await bed.sim.client.waitForMessage(token, USER.id, { after: cursor, text: 'escaped' });
    const [pid] = await waitFor(() => {
      const found = sleepers(secs);
      return found.length > 0 ? found : undefined;
    }, { what: 'the escaped sleep' });
    const escaped = refOf(pid as number);
    bed.onCleanup(() => {
      if (escaped !== undefined && isAlive(escaped)) process.kill(escaped.pid, 'SIGKILL');
    });
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8'), 'no tree cookie').to.not.include('BOTVISOR_TREE');
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1], 'parent is init').to.equal('1');
    d.kill('SIGTERM');
    expect(await exited(d)).to.equal(0);
    expect(escaped !== undefined && isAlive(escaped), 'the escaped sleep outlived the supervisor').to.equal(false);
    expect(log()).to.include("each bot's process tree is held in a cgroup v2 group");
  });
});
