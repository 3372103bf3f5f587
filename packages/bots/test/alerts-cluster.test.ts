import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, loadConfig } from '@botvisor/core';
import { Supervisor } from '@botvisor/supervisor';
import { fakeToken, usePostgres, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { BUILTIN_MODULES } from './support/builtin-modules.js';

const ADMIN = { id: 1001, first_name: 'Ada' };

describe('alerts in cluster mode: a change of active node reaches the chats (two nodes, a throwaway PostgreSQL)', function () {
  this.timeout(120_000);
  const bed = useTestbed();
  const pg = usePostgres();

  /** A node: the bridge polls the token (behind the lease), the alerts bot shares it and runs send-only on both nodes. */
  async function startNode(name: string, token: string): Promise<Supervisor> {
    const dir = bed.temp.make('botvisor-alerts-cluster-');
    const file = path.join(dir, 'botvisor.json');
    const bots = [
      { name: 'main', kind: 'bridge', token, allow: [ADMIN.id], commands: {} },
      { name: 'alerts', kind: 'alerts', token, chats: [ADMIN.id] },
    ];
    const cluster = { postgresEnv: 'BOTVISOR_TEST_PG', node: name, leaseMs: 3000, renewMs: 500 };
    writeFileSync(file, JSON.stringify({ apiRoot: bed.sim.url, http: false, locksDir: path.join(dir, 'locks'), supervisor: { stopGraceMs: 3000, pingIntervalMs: 500 }, cluster, bots }));
    const env = { ...process.env, BOTVISOR_TEST_PG: pg.db.url() };
    const config = loadConfig(file, { env });
    const sup = await Supervisor.start({ config, configFile: file, builtinModules: BUILTIN_MODULES, env, logger: createLogger({ proc: 'supervisor', logDir: config.logDir, console: 'never' }) });
    bed.onCleanup(() => sup.stop());
    return sup;
  }

  it('the node that takes over sends one 🔀 alert naming both nodes and the new epoch', async () => {
    const token = fakeToken();
    const a = await startNode('host-a', token);
    await a.waitReady(30_000);
    const { cursor } = bed.sim.users.sendCommand(token, { user: ADMIN, command: 'start' }); // the chat must exist before a bot can write to it
    await bed.sim.client.waitForMessage(token, ADMIN.id, { after: cursor, timeoutMs: 15_000 });
    const b = await startNode('host-b', token);
    await waitFor(() => b.bots.get('alerts')?.state === 'ready', { timeoutMs: 30_000, what: "host-b's alerts bot to run (send-only, on the standby too)" });
    await waitFor(async () => (await b.status()).supervisor.locks[0]?.cluster?.holder === 'host-a', { timeoutMs: 10_000, what: 'host-b to be standby' });

    await a.stop(); // ends host-a's lease: host-b takes over at its next try
    const alert = await bed.sim.client.waitForMessage(token, ADMIN.id, { after: cursor, pattern: /cluster lease/, timeoutMs: 20_000 });
    expect(alert.text).to.match(/^🔀 bot main: node host-b took the cluster lease \(epoch 2\), from node host-a; it polls now \(\d\d:\d\d:\d\d UTC\)$/);
    await new Promise((r) => setTimeout(r, 1500)); // a second alert (from either node) would have come by now
    const alerts = (await bed.sim.client.transcript(token, ADMIN.id)).entries.filter((e) => e.kind === 'sent' && /cluster lease/.test(e.text ?? ''));
    expect(alerts, 'one alert for one change of active node').to.have.length(1);
  });
});
