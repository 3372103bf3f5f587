/**
 * A fake agent CLI for tests and benchmarks: a long-lived process that reads messages on stdin
 * and answers on stdout, speaking either protocol of botvisor's sessions.
 *
 *   node fake-agent.js --protocol stream-json|lines [--cost 0.01] [--tokens 1000]
 *
 * `stream-json` follows Claude Code's shapes: a `system` init event at start; per message, the
 * reply as `assistant` events and a `result` event with `usage` and `total_cost_usd`. `lines`
 * answers each line with lines of text and then stays quiet. It keeps state between turns (the
 * turn number and the previous message), and a few messages make it do what tests need:
 *   pid            → "pid <its pid>"
 *   child          → starts `sleep 300` as its child, answers "child <pid>"
 *   big <bytes>    → a reply of that many bytes
 *   slow <ms>      → "working…", then after <ms> "done"
 *   exit <code>    → a line on stderr, then exits with <code> (mid-turn)
 *   never          → (stream-json) answers, but never ends the turn
 * Anything else: "turn <n>: you said <text>" plus " (before: <previous text>)" after the first.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { protocol: { type: 'string', default: 'stream-json' }, cost: { type: 'string', default: '0.01' }, tokens: { type: 'string', default: '1000' } } });
const streamJson = values.protocol === 'stream-json';
const cost = Number(values.cost);
const tokens = Number(values.tokens);
const children: number[] = [];
let turn = 0;
let previous: string | undefined;

function emit(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

/** One piece of the reply. stream-json: an assistant event; lines: the text itself. */
function say(text: string): void {
  if (streamJson) emit({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text }] } });
  else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function endTurn(): void {
  if (!streamJson) return;
  const half = Math.floor(tokens / 2);
  emit({ type: 'result', subtype: 'success', is_error: false, num_turns: turn, total_cost_usd: cost, usage: { input_tokens: half, output_tokens: tokens - half } });
}

/** A reply of exactly `bytes` bytes, in pieces of at most 64 KiB, written as the pipe takes them. */
async function big(bytes: number): Promise<void> {
  const line = `${'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(2).slice(0, 127)}\n`;
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, 64 * 1024);
    const text = line.repeat(Math.ceil(n / line.length)).slice(0, n);
    left -= n;
    const ok = streamJson ? process.stdout.write(`${JSON.stringify({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text }] } })}\n`) : process.stdout.write(text);
    if (!ok) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
}

async function answer(text: string): Promise<void> {
  turn++;
  const [word, arg] = text.trim().split(/\s+/, 2);
  if (word === 'pid') say(`pid ${process.pid}`);
  else if (word === 'child') {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(child.pid as number);
    say(`child ${child.pid}`);
  } else if (word === 'big') await big(Number(arg));
  else if (word === 'slow') {
    say('working…');
    await new Promise((resolve) => setTimeout(resolve, Number(arg)));
    say('done');
  } else if (word === 'exit') {
    process.stderr.write(`fake agent: exiting with ${arg}\n`);
    process.exit(Number(arg));
  } else if (word === 'never') {
    say('thinking forever');
    return;
  } else {
    say(`turn ${turn}: you said ${text}${previous !== undefined ? ` (before: ${previous})` : ''}`);
  }
  previous = text;
  endTurn();
}

if (streamJson) emit({ type: 'system', subtype: 'init', session_id: `fake-${process.pid}`, tools: [] });

// One message at a time, in order: a turn ends before the next line is read.
const queue: string[] = [];
let busy = false;
async function pump(): Promise<void> {
  if (busy) return;
  busy = true;
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) await answer(next);
  busy = false;
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === '') return;
  let text = line;
  if (streamJson) {
    try {
      const msg = JSON.parse(line) as { type?: string; message?: { content?: unknown } };
      if (msg.type !== 'user' || typeof msg.message?.content !== 'string') return;
      text = msg.message.content;
    } catch {
      return;
    }
  }
  queue.push(text);
  void pump();
});
process.stdin.on('end', () => process.exit(0));
