/**
 * Benchmark of the runtime's job runner and outbox.
 *
 *   1. Throughput from a CLI tool into the runner: a node one-liner writes N MiB to stdout (with
 *      back-pressure, like a real tool) and we time `runJob` (drain, spool to a temp file, tails)
 *      against `child_process.exec` — once with its default `maxBuffer` (1 MiB: it kills the tool
 *      and fails past that) and once with `maxBuffer` raised to hold everything (it buffers the
 *      whole output in memory). Peak RSS of this process is sampled during each run.
 *   2. Messages per second the outbox delivers under the simulator's telegram-like flood limits,
 *      against the theoretical limits (30/s bot-wide, 1/s per chat); and, for contrast, the same
 *      burst fired at a plain node-telegram-bot-api `Api` (library retries, no outbox).
 *
 * Usage (after `npm run build`): node scripts/bench/jobs.js [--sizes 1,10,100,500] [--rounds 3] [--chats 60] [--per-chat 10] [--skip-outbox]
 * Plain ESM JavaScript: the repo's tsconfigs do not compile scripts/.
 */
import { exec } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSim } from '@botvisor/bot-api-sim';
import { createOutboxApi, runJob } from '@botvisor/runtime';
import { Api } from 'node-telegram-bot-api';

const { values: options } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,10,100,500' },
    rounds: { type: 'string', default: '3' },
    chats: { type: 'string', default: '60' },
    'per-chat': { type: 'string', default: '10' },
    'skip-outbox': { type: 'boolean', default: false },
  },
});
const SIZES = options.sizes.split(',').map(Number);
const ROUNDS = Number(options.rounds);

/** A CLI tool writing `mb` MiB in 64 KiB writes, honouring back-pressure. */
const WRITER = [
  'const chunk = Buffer.alloc(65536, 120);',
  'let left = Number(process.argv[1]) * 16;',
  "function go() { while (left-- > 0) { if (!process.stdout.write(chunk)) return process.stdout.once('drain', go); } }",
  'go();',
].join(' ');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs `fn`, sampling this process's RSS every 10 ms; returns fn's value, ms and the peak RSS growth in MB. */
async function measured(fn) {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const start = performance.now();
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, ms: performance.now() - start, rssMb: (peak - base) / 1024 / 1024 };
  } finally {
    clearInterval(sampler);
  }
}

function viaExec(mb, maxBuffer) {
  const cmd = `${JSON.stringify(process.execPath)} -e ${JSON.stringify(WRITER)} ${mb}`;
  return new Promise((resolve) => {
    exec(cmd, { maxBuffer, encoding: 'buffer' }, (err, stdout) => {
      resolve(err ? { ok: false, error: err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' ? 'maxBuffer exceeded' : String(err.message).split('\n')[0], bytes: stdout?.length ?? 0 } : { ok: true, bytes: stdout.length });
    });
  });
}

async function viaRunner(mb, spoolDir) {
  const result = await runJob({ argv: [process.execPath, '-e', WRITER, String(mb)], spoolDir, timeoutMs: 0 }).result;
  return { ok: result.ok, bytes: result.outputBytes, error: result.failure };
}

async function throughput() {
  const spoolDir = mkdtempSync(path.join(os.tmpdir(), 'botvisor-bench-jobs-'));
  const rows = [];
  try {
    for (const mb of SIZES) {
      const contenders = [
        ['runJob (drain + spool + tail)', () => viaRunner(mb, spoolDir)],
        ['exec, default maxBuffer (1 MiB)', () => viaExec(mb, 1024 * 1024)],
        ['exec, maxBuffer = output size', () => viaExec(mb, mb * 1024 * 1024 + 1)],
      ];
      for (const [name, fn] of contenders) {
        const runs = [];
        for (let r = 0; r < ROUNDS; r++) runs.push(await measured(fn));
        const last = runs[runs.length - 1].value;
        const ms = median(runs.map((x) => x.ms));
        rows.push({
          'output MiB': mb,
          method: name,
          result: last.ok ? 'ok' : `FAILED: ${last.error} after ${(last.bytes / 1024 / 1024).toFixed(1)} MiB`,
          'MB/s': last.ok ? Math.round((mb * 1.048576) / (ms / 1000)) : '-',
          'median ms': Math.round(ms),
          'peak RSS growth MB': Math.round(Math.max(...runs.map((x) => x.rssMb))),
        });
      }
    }
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
  console.log('\n1. CLI output into the bot process');
  console.table(rows);
}

function tokenFor(botId) {
  return `${botId}:${`benchJobs_${botId}_`.padEnd(35, 'x')}`;
}

/** Fires `chats × perChat` sendMessage calls at once; returns delivered/s and the sim's figures. */
async function burst(sim, token, send, chats, perChat) {
  for (let c = 0; c < chats; c++) sim.users.sendMessage(token, { user: { id: 50_000 + c }, text: 'hi' });
  const start = performance.now();
  const calls = [];
  for (let i = 0; i < perChat; i++) for (let c = 0; c < chats; c++) calls.push(send(50_000 + c, `m${i}`));
  const settled = await Promise.allSettled(calls);
  const seconds = (performance.now() - start) / 1000;
  const stats = await sim.client.stats(token);
  const failed = settled.filter((s) => s.status === 'rejected').length;
  return { seconds, delivered: stats.messagesSent, failed, tooManyRequests: stats.tooManyRequests };
}

async function outboxRate() {
  const chats = Number(options.chats);
  const perChat = Number(options['per-chat']);
  const total = chats * perChat;
  const theoreticalSeconds = Math.max(total / 30, perChat - 1);
  const rows = [];
  const scenarios = [
    { name: `outbox, ${chats} chats × ${perChat}`, chats, perChat, useOutbox: true },
    { name: 'outbox, 1 chat × 20', chats: 1, perChat: 20, useOutbox: true },
    { name: `plain Api (library retries, no outbox), ${chats} chats × ${perChat}`, chats, perChat, useOutbox: false },
  ];
  let botId = 7_100_000_000;
  for (const s of scenarios) {
    const sim = await startSim({ flood: 'telegram' });
    const token = tokenFor(++botId);
    try {
      let send;
      let stop = async () => undefined;
      if (s.useOutbox) {
        const { api, outbox } = createOutboxApi(token, { apiRoot: sim.url });
        send = (chat, text) => api.sendMessage({ chat_id: chat, text });
        stop = () => outbox.stop(0);
      } else {
        const api = new Api(token, { apiRoot: sim.url });
        send = (chat, text) => api.sendMessage({ chat_id: chat, text });
      }
      const r = await burst(sim, token, send, s.chats, s.perChat);
      await stop();
      const n = s.chats * s.perChat;
      const ideal = Math.max(n / 30, s.perChat - 1);
      rows.push({
        scenario: s.name,
        messages: n,
        delivered: r.delivered,
        failed: r.failed,
        '429s': r.tooManyRequests,
        seconds: Number(r.seconds.toFixed(1)),
        'msg/s': Number((r.delivered / r.seconds).toFixed(1)),
        'theoretical msg/s': Number((n / ideal).toFixed(1)),
      });
    } finally {
      await sim.close();
    }
  }
  console.log(`\n2. Outbox under the simulator's telegram-like limits (theoretical for ${total} messages: ${theoreticalSeconds.toFixed(1)} s)`);
  console.table(rows);
}

console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()}`);
await throughput();
if (!options['skip-outbox']) await outboxRate();
