/**
 * Runs a real bot process for a test: writes a botvisor.json that points at the simulator, forks
 * the runtime's `botvisor-bot` entry, and gives the test what it needs to look at — IPC messages,
 * stderr, the records the fixture bot writes, the bot's JSON log lines.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimHandle } from '@botvisor/bot-api-sim';
import type { IpcMessage } from '@botvisor/core';
import { exited, fakeToken, type ProcessTracker, type TempDirs, waitFor } from '@botvisor/testkit';

export const BOT_BIN = fileURLToPath(import.meta.resolve('@botvisor/runtime/bot-entry')); // the shipped entry: the bundle
export const TEST_BOT = fileURLToPath(new URL('../fixtures/test-bot.js', import.meta.url));

/** A fresh, Telegram-shaped token, different for every test. */
export const newToken = fakeToken;

export interface Record {
  id: number;
  chat: number;
  text?: string;
  redelivered: boolean;
  at: number;
}

export interface Installation {
  dir: string;
  configFile: string;
  dataDir: string;
  logDir: string;
  /** The config's locksDir: inside the test's folder, never the machine's real lock folder. */
  locksDir: string;
  recordFile: string;
}

/** A config folder with one bot (more with `extraBots`) pointing at the simulator. */
export function install(temp: TempDirs, sim: SimHandle, bot: { name?: string; token: string; module?: string; [k: string]: unknown }, extraBots: object[] = []): Installation {
  const dir = temp.make('botvisor-rt-');
  const configFile = path.join(dir, 'botvisor.json');
  const { name = 'main', module = TEST_BOT, ...rest } = bot;
  const locksDir = path.join(dir, 'locks');
  writeFileSync(configFile, JSON.stringify({ apiRoot: sim.url, locksDir, bots: [{ name, module, ...rest }, ...extraBots] }, null, 2));
  return { dir, configFile, dataDir: path.join(dir, 'data'), logDir: path.join(dir, 'logs'), locksDir, recordFile: path.join(dir, 'records.jsonl') };
}

export class BotUnderTest {
  readonly messages: IpcMessage[] = [];
  stderr = '';
  readyAt: number | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly installation: Installation,
    readonly name: string,
  ) {
    child.on('message', (m) => {
      this.messages.push(m as IpcMessage);
      if ((m as IpcMessage).type === 'ready') this.readyAt = Date.now();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  async ready(timeoutMs = 15_000): Promise<void> {
    await waitFor(() => this.readyAt !== undefined || this.child.exitCode !== null, { timeoutMs, what: `bot ${this.name} to be ready` });
    if (this.readyAt === undefined) throw new Error(`bot ${this.name} exited with ${this.child.exitCode} before ready: ${this.stderr}`);
  }

  exited(): Promise<number | NodeJS.Signals> {
    return exited(this.child);
  }

  records(): Record[] {
    const file = this.installation.recordFile;
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record);
  }

  logLines(): Array<{ level: string; msg: string; [k: string]: unknown }> {
    const file = path.join(this.installation.logDir, `${this.name}.log`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { level: string; msg: string });
  }
}

export interface StartOptions {
  name?: string;
  env?: NodeJS.ProcessEnv;
  /** Fork with an IPC channel, as the supervisor does (default true). */
  ipc?: boolean;
}

export function startBot(tracker: ProcessTracker, installation: Installation, options: StartOptions = {}): BotUnderTest {
  const name = options.name ?? 'main';
  const args = ['--config', installation.configFile, '--bot', name];
  const env = { ...process.env, RECORD_FILE: installation.recordFile, ...options.env };
  const child =
    options.ipc === false
      ? tracker.spawn(process.execPath, [BOT_BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
      : tracker.fork(BOT_BIN, args, { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  return new BotUnderTest(child, installation, name);
}
