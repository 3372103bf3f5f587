/**
 * Benchmark of @botvisor/bot-api-sim: how many Bot API round trips this machine can do against the
 * simulator, the physical limit every other botvisor benchmark is compared against.
 *
 * The sim runs in a child process (as a bot's Telegram would), the load comes from this process
 * over keep-alive HTTP. Two scenarios:
 *   - sendMessage: many concurrent callers, one request each time;
 *   - inject → getUpdates → reply: per bot, a held long poll is woken by a user message injected
 *     through the control API, and the bot answers with sendMessage (three requests a round trip).
 *
 * Usage (after `npm run build`): node scripts/bench/sim.js [--seconds 3] [--concurrency 64] [--bots 32] [--in-process]
 * Plain ESM JavaScript: the repo's tsconfigs do not compile scripts/.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SimClient, startSim } from '@botvisor/bot-api-sim';

const { values: options } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    bots: { type: 'string', default: '32' },
    'in-process': { type: 'boolean', default: false },
    serve: { type: 'boolean', default: false },
  },
});

if (options.serve) {
  // Child mode: run the sim and tell the parent where it listens.
  const sim = await startSim();
  process.send?.({ url: sim.url });
  process.on('disconnect', () => void sim.close().then(() => process.exit(0)));
} else {
  await main();
}

function tokenFor(botId) {
  return `${botId}:${`benchSecret_${botId}_`.padEnd(35, 'x')}`;
}

async function startServer() {
  if (options['in-process']) {
    const sim = await startSim();
    return { url: sim.url, stop: () => sim.close() };
  }
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message.url));
    child.once('exit', (code) => reject(new Error(`the sim process exited early (${code})`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.disconnect();
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return { url, stop };
}

function makeCaller(baseUrl, maxSockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const { hostname, port } = new URL(baseUrl);
  const call = (path, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) };
      const req = http.request({ agent, hostname, port, path, method: payload === undefined ? 'GET' : 'POST', headers }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (envelope.ok) resolve(envelope.result);
          else reject(new Error(`${path.replace(/bot\d+:[^/]+/, 'bot<token>')}: ${envelope.error_code} ${envelope.description}`));
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  return { call, close: () => agent.destroy() };
}

/** Runs `worker` on `concurrency` loops until `seconds` pass; returns completed iterations and elapsed seconds. */
async function runFor(seconds, concurrency, worker) {
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, index) => {
      while (performance.now() < deadline) {
        await worker(index);
        done++;
      }
    }),
  );
  return { done, elapsed: (performance.now() - started) / 1000 };
}

async function benchSendMessage(url, seconds, concurrency) {
  const token = tokenFor(900001);
  const client = new SimClient(url);
  const { chat_id } = await client.sendMessage(token, { text: 'start' });
  const { call, close } = makeCaller(url, concurrency);
  const path = `/bot${token}/sendMessage`;
  await runFor(0.5, concurrency, () => call(path, { chat_id, text: 'warm-up' }));
  const result = await runFor(seconds, concurrency, () => call(path, { chat_id, text: 'Hello from the benchmark' }));
  close();
  await client.reset();
  return result;
}

async function benchRoundTrip(url, seconds, bots) {
  const { call, close } = makeCaller(url, bots * 3);
  const state = Array.from({ length: bots }, (_, index) => ({ token: tokenFor(910000 + index), offset: 0 }));
  const roundTrip = async (index) => {
    const bot = state[index];
    const poll = call(`/bot${bot.token}/getUpdates`, { offset: bot.offset, timeout: 10 });
    await call(`/sim/bots/${encodeURIComponent(bot.token)}/messages`, { user: { id: 1000 + index }, text: 'ping' });
    const updates = await poll;
    if (updates.length === 0) return; // the poll ran out before the message came; go round again
    for (const update of updates) {
      await call(`/bot${bot.token}/sendMessage`, { chat_id: update.message.chat.id, text: 'pong' });
      bot.offset = update.update_id + 1;
    }
  };
  await runFor(0.5, bots, roundTrip);
  const result = await runFor(seconds, bots, roundTrip);
  const stats = await new SimClient(url).allStats();
  close();
  return { ...result, maxPendingPollers: Math.max(...stats.map((s) => s.maxPendingPollers)) };
}

async function main() {
  const seconds = Number(options.seconds);
  const concurrency = Number(options.concurrency);
  const bots = Number(options.bots);
  // Other processes competing for the cores skew the figures; say how busy the machine was.
  const loadBefore = os.loadavg()[0];
  const server = await startServer();
  try {
    const send = await benchSendMessage(server.url, seconds, concurrency);
    const trip = await benchRoundTrip(server.url, seconds, bots);
    const rows = [
      ['scenario', 'concurrency', 'count', 'seconds', 'per second'],
      ['sendMessage', String(concurrency), String(send.done), send.elapsed.toFixed(1), `${Math.round(send.done / send.elapsed)} req/s`],
      [
        'inject → getUpdates → reply (3 requests)',
        `${bots} bots`,
        String(trip.done),
        trip.elapsed.toFixed(1),
        `${Math.round(trip.done / trip.elapsed)} round trips/s (${Math.round((trip.done * 3) / trip.elapsed)} req/s)`,
      ],
    ];
    const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
    const where = options['in-process'] ? 'in this process' : 'in a child process';
    console.log(`bot-api-sim benchmark: ${os.cpus().length} CPUs, node ${process.version}, sim ${where}, load average before: ${loadBefore.toFixed(2)}`);
    for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  '));
    console.log(`max pending pollers on any token: ${trip.maxPendingPollers} (must be 1)`);
  } finally {
    await server.stop();
  }
}
