import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendants, tokenHash } from '@botvisor/core';
import { exited, startPostgres, type TestPostgres, useTestbed, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import pg from 'pg';
import { DAEMON, type Installation, install, newToken } from './support/installation.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const RECORDING_BOT = fileURLToPath(new URL('./fixtures/recording-bot.js', import.meta.url));
const FAST = { pingIntervalMs: 500, hungAfterMs: 5000, backoffInitialMs: 50, backoffMaxMs: 400, crashBudget: 1000, stopGraceMs: 2000 };
const LEASE_MS = 1500;
const RENEW_MS = 300;
const ROUNDS = 20;
const CHATS = 8;
/** Trust authentication accepts any password; this one must never reach a log. */
const PASSWORD = 'pg-secret-do-not-log-0815';

interface Handled {
  id: number;
  redelivered: boolean;
  at: number;
  node: string;
}

/** One machine of the cluster: its installation, its own link to PostgreSQL (a proxy the test can cut), its record file, its supervisor daemon. */
interface ClusterNode {
  name: string;
  inst: Installation;
  proxy: TcpProxy;
  recordFile: string;
  daemon: ChildProcess;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

describe('cluster failover under traffic: one shared inbox, fenced by the lease epoch', function () {
  this.timeout(300_000);
  const bed = useTestbed();
  let db: TestPostgres;

  before(async function () {
    this.timeout(60_000);
    db = await startPostgres();
  });
  after(() => db?.stop());

  function logsOf(inst: Installation): string {
    if (!existsSync(inst.logDir)) return '';
    return readdirSync(inst.logDir)
      .map((f) => readFileSync(path.join(inst.logDir, f), 'utf8'))
      .join('\n');
  }

  function handledBy(node: ClusterNode): Handled[] {
    if (!existsSync(node.recordFile)) return [];
    return readFileSync(node.recordFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => ({ ...(JSON.parse(l) as Omit<Handled, 'node'>), node: node.name }));
  }

  function startDaemon(node: Omit<ClusterNode, 'daemon'>): ChildProcess {
    const env = { ...process.env, BOTVISOR_TEST_PG: `postgres://postgres:${PASSWORD}@127.0.0.1:${node.proxy.port}/postgres`, FIXTURE_RECORD_FILE: node.recordFile };
    return bed.tracker.spawn(process.execPath, [DAEMON, '--config', node.inst.configFile], { stdio: 'ignore', env });
  }

  /** Waits until the node's (re)started supervisor has begun cluster mode, and PostgreSQL has answered its lease tries. */
  async function standingBy(node: ClusterNode, startsBefore: number): Promise<void> {
    await waitFor(() => logsOf(node.inst).split('cluster mode: node').length - 1 > startsBefore, { timeoutMs: 20_000, what: `node ${node.name}'s supervisor to start` });
    await leaseTriesAnswered(node);
  }

  /** Waits until PostgreSQL has answered the node through its link again: the connection's start-up and lease tries after it, so the node has seen the holder. */
  async function leaseTriesAnswered(node: ClusterNode): Promise<void> {
    const before = node.proxy.answersRelayed();
    await waitFor(() => node.proxy.answersRelayed() >= before + 3, { timeoutMs: 20_000, intervalMs: 20, what: `PostgreSQL to answer node ${node.name}'s lease tries` });
  }

  it(`${ROUNDS} failovers (kill -9 of the active node, PostgreSQL cut from it) under steady traffic: nothing lost, nothing doubled unmarked, one poller at a time`, async () => {
    const token = newToken();
    const admin = new pg.Pool({ connectionString: db.url(), max: 1 });
    bed.onCleanup(() => admin.end());
    const holder = async (): Promise<string | undefined> => {
      const r = await admin.query<{ holder: string }>('SELECT holder FROM botvisor_lease WHERE token_hash = $1 AND expires_at > clock_timestamp()', [tokenHash(token)]);
      return r.rows[0]?.holder;
    };
    const nodes: ClusterNode[] = [];
    for (const name of ['host-a', 'host-b']) {
      const proxy = await startTcpProxy(db.port);
      bed.onCleanup(() => proxy.close());
      const inst = install(bed.temp, bed.sim, [{ name: 'main', module: RECORDING_BOT, token }], FAST, {
        config: { cluster: { postgresEnv: 'BOTVISOR_TEST_PG', node: name, leaseMs: LEASE_MS, renewMs: RENEW_MS } },
      });
      const partial = { name, inst, proxy, recordFile: path.join(inst.dir, 'handled.jsonl') };
      nodes.push({ ...partial, daemon: startDaemon(partial) });
      await standingBy(nodes[nodes.length - 1] as ClusterNode, 0);
    }
    await waitFor(async () => (await holder()) !== undefined, { timeoutMs: 20_000, what: 'a node to take the lease' });

    // Steady traffic across several chats, for the whole test.
    const sent: number[] = [];
    let n = 0;
    const traffic = setInterval(() => {
      const chat = 5000 + (n % CHATS);
      const { update_id } = bed.sim.users.sendMessage(token, { user: { id: chat, first_name: `u${chat}` }, text: `t${n++}` });
      if (update_id !== null) sent.push(update_id);
    }, 25);
    bed.onCleanup(() => clearInterval(traffic));
    await waitFor(() => nodes.some((node) => handledBy(node).length > 20), { timeoutMs: 20_000, what: 'the first updates to be handled' });

    const failovers: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const activeName = await waitFor(holder, { timeoutMs: 20_000, what: 'a lease holder' });
      const active = nodes.find((node) => node.name === activeName) as ClusterNode;
      const standby = nodes.find((node) => node !== active) as ClusterNode;
      const tree = [active.daemon.pid as number, ...descendants(active.daemon.pid as number).map((p) => p.pid)];
      const bots = tree.slice(1);
      expect(bots, `round ${round}: node ${active.name} runs its bot`).to.have.length.at.least(1);
      const kill = round % 2 === 0;
      const startedBefore = logsOf(active.inst).split('cluster mode: node').length - 1;
      const sentBefore = [...sent];
      const t0 = Date.now();
      if (kill) {
        for (const pid of tree) process.kill(pid, 'SIGKILL');
      } else {
        active.proxy.cut();
        // Its last renewal went out before the cut: its lease can lapse in PostgreSQL no sooner than t0 + leaseMs.
        await waitFor(() => bots.every((pid) => !isRunning(pid)), { timeoutMs: LEASE_MS, intervalMs: 10, what: `round ${round}: the partitioned node's bot to stop before its lease can lapse` });
      }
      const first = await waitFor(() => handledBy(standby).find((h) => h.at >= t0), { timeoutMs: LEASE_MS + 15_000, intervalMs: 20, what: `round ${round}: node ${standby.name} to handle an update` });
      failovers.push(first.at - t0);
      // The old active's accepted-but-unhandled updates are the new active's now: handled this round, not when the old node comes back.
      const done = (): boolean => {
        const handled = new Set(nodes.flatMap(handledBy).map((h) => h.id));
        return sentBefore.every((id) => handled.has(id));
      };
      await waitFor(done, { timeoutMs: 15_000, intervalMs: 50, what: `round ${round}: every update sent before the failover to be handled` });
      if (kill) {
        await exited(active.daemon);
        active.daemon = startDaemon(active);
        await standingBy(active, startedBefore);
      } else {
        active.proxy.heal();
        await leaseTriesAnswered(active);
      }
      expect(await holder(), `round ${round}: the other node holds the lease`).to.equal(standby.name);
    }
    clearInterval(traffic);

    const all = (): Handled[] => nodes.flatMap(handledBy);
    await waitFor(() => new Set(all().map((h) => h.id)).size >= new Set(sent).size, { timeoutMs: 60_000, what: 'every sent update to be handled' });
    const byId = new Map<number, Handled[]>();
    for (const h of all()) byId.set(h.id, [...(byId.get(h.id) ?? []), h]);
    const lost = sent.filter((id) => !byId.has(id));
    const doubledUnmarked = [...byId.entries()].filter(([, hs]) => hs.sort((x, y) => x.at - y.at).slice(1).some((h) => !h.redelivered)).map(([id]) => id);
    const sorted = [...failovers].sort((x, y) => x - y);
    console.log(
      `      ${ROUNDS} failovers (leaseMs ${LEASE_MS}, renewMs ${RENEW_MS}): median ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted[sorted.length - 1]} ms; ` +
        `${sent.length} updates sent, ${all().length} handlings, ${all().filter((h) => h.redelivered).length} marked redelivered`,
    );
    expect(lost, 'lost updates').to.deep.equal([]);
    expect(doubledUnmarked, 'updates handled twice without the redelivered mark').to.deep.equal([]);
    const stats = await bed.sim.client.stats(token);
    expect(stats.maxPendingPollers, 'two getUpdates open at once').to.equal(1);
    expect(stats.conflicts).to.equal(0);
    // The bound (leaseMs + 2 s) is the typical failover; single rounds on a loaded shared
    // machine ran past it (4.2 s in CI), so the wall-clock bound per round is generous and the
    // strict figure is scripts/bench/failover.js's goal.
    expect(percentile(sorted, 50), 'the median failover within leaseMs + 2 s').to.be.below(LEASE_MS + 2000);
    expect(sorted[sorted.length - 1], 'every failover within leaseMs + 6 s').to.be.below(LEASE_MS + 6000);
    for (const node of nodes) expect(logsOf(node.inst)).not.to.include(PASSWORD);
  });
});
