/**
 * Benchmark of the runtime's sessions: N concurrent conversations (default 20), each its own chat
 * with its own agent process (the fake agent CLI, stream-json), driven through the SessionManager
 * and the outbox into the simulator with Telegram-like flood limits.
 *
 *   - first-token latency: from handing a message to the manager to the first message of the
 *     reply being delivered by the Bot API (the outbox's answer), p50 / p99 — for the first turn
 *     (includes starting the agent process) and a second turn (a warm process);
 *     (Telegram's 30 messages a second bot-wide spreads 20 first replies over ~0.7 s: that is in p99);
 *   - RSS per session: the agent process's own (VmRSS; here a Node process, so a floor rather
 *     than what Claude Code uses) and the bot's growth per session (the manager's share).
 *
 * Usage (after `npm run build`): node scripts/bench/sessions.js [--sessions 20] [--rounds 3]
 * Plain ESM JavaScript: the repo's tsconfigs do not compile scripts/.
 */
import { parseArgs } from 'node:util';
import { startSim } from '@botvisor/bot-api-sim';
import { createLogger } from '@botvisor/core';
import { createOutboxApi } from '@botvisor/runtime';
import { emptySessionsFile, SessionManager } from '@botvisor/runtime/sessions';
import { FAKE_AGENT } from '@botvisor/testkit';
import { machineFacts, ms, percentile, printTable, Run, rssMb, tokenFor, waitFor } from './lib/common.js';

const { values: options } = parseArgs({ options: { sessions: { type: 'string', default: '20' }, rounds: { type: 'string', default: '3' } } });
const N = Number(options.sessions);
const ROUNDS = Number(options.rounds);

async function round(index) {
  const sim = await startSim({ flood: 'telegram' });
  const token = tokenFor(7_200_000_000 + index);
  const chats = Array.from({ length: N }, (_, i) => 60_000 + i);
  for (const chat of chats) sim.users.sendMessage(token, { user: { id: chat }, text: 'hi' });
  const { api, outbox } = createOutboxApi(token, { apiRoot: sim.url });
  // The time each chat's first reply message is delivered, per turn.
  const firstDelivered = new Map();
  const turnOf = new Map();
  const send = api.sendMessage.bind(api);
  api.sendMessage = async (params, signal) => {
    const result = await send(params, signal);
    const key = `${params.chat_id}:${turnOf.get(params.chat_id)}`;
    if (!firstDelivered.has(key)) firstDelivered.set(key, performance.now());
    return result;
  };
  const file = emptySessionsFile();
  const spool = run.tempDir('bench-sessions-');
  const manager = new SessionManager({
    api,
    specs: { agent: { argv: [process.execPath, FAKE_AGENT, '--protocol', 'stream-json'], protocol: 'stream-json', turnIdleMs: 1500, turnTimeoutSec: 60, idleTimeoutSec: 600, maxSessions: N, queueLimit: 20, default: true } },
    store: { read: () => file, update: (fn) => fn(file), flush: async () => undefined },
    logger: createLogger({ proc: 'bench', console: 'never' }),
    spoolDir: spool,
  });
  try {
    global.gc?.();
    const botRssBefore = process.memoryUsage().rss / 1024 / 1024;
    const latencies = { first: [], warm: [] };
    for (const [turn, label] of [[1, 'first'], [2, 'warm']]) {
      // Telegram allows one message a second per chat: a warm turn right after the first would measure that pause.
      if (turn > 1) await new Promise((resolve) => setTimeout(resolve, 1100));
      const sentAt = new Map();
      for (const chat of chats) {
        turnOf.set(chat, turn);
        sentAt.set(chat, performance.now());
        void manager.send({ chatId: chat, userId: chat, text: `hello ${turn}` });
      }
      await waitFor(() => chats.every((c) => firstDelivered.has(`${c}:${turn}`)), { timeoutMs: 60_000, what: `the ${label} replies` });
      for (const c of chats) latencies[label].push(firstDelivered.get(`${c}:${turn}`) - sentAt.get(c));
      await waitFor(() => manager.list().every((s) => s.state === 'idle' && s.pending === 0), { timeoutMs: 60_000, what: 'every session idle' });
    }
    const agentRss = manager.list().map((s) => rssMb(s.pid));
    const botRssAfter = process.memoryUsage().rss / 1024 / 1024;
    return { latencies, agentRss, botGrowthPerSession: (botRssAfter - botRssBefore) / N };
  } finally {
    await manager.stop(3000);
    await outbox.stop(0);
    await sim.close();
  }
}

const run = new Run();
console.log(`sessions benchmark: ${N} concurrent sessions, ${ROUNDS} rounds; ${machineFacts()}`);
const all = { first: [], warm: [], agentRss: [], botGrowth: [] };
for (let r = 0; r < ROUNDS; r++) {
  const res = await round(r).catch(async (err) => {
    await run.cleanup();
    throw err;
  });
  all.first.push(...res.latencies.first);
  all.warm.push(...res.latencies.warm);
  all.agentRss.push(...res.agentRss);
  all.botGrowth.push(res.botGrowthPerSession);
}
printTable([
  ['measure', 'p50', 'p99', 'max', 'samples'],
  ['first token, new session (spawns the agent)', ms(percentile(all.first, 50)), ms(percentile(all.first, 99)), ms(Math.max(...all.first)), String(all.first.length)],
  ['first token, warm session', ms(percentile(all.warm, 50)), ms(percentile(all.warm, 99)), ms(Math.max(...all.warm)), String(all.warm.length)],
]);
const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`RSS per session: agent process ${avg(all.agentRss).toFixed(1)} MB (median ${percentile(all.agentRss, 50).toFixed(1)} MB; a Node fake agent), bot-side growth ${avg(all.botGrowth).toFixed(2)} MB per session`);
await run.cleanup();
