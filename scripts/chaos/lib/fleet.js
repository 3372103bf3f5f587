// The fleet under test: writes the soak's botvisor.json (bridge + alerts on token A, a second
// polling bot on token B) and runs the supervisor as a real, separate process that the soak can
// kill -9 and start again. Every process of every run carries CHAOS_SOAK=<id> (bots inherit it)
// or TMPDIR=<soak tmp> (CLI jobs keep TMPDIR through the job env allow list), so the soak finds
// all of them, whichever run started them.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { descendants, findByEnv, isAlive, isDeadState, killTree, refOf } from '@botvisor/core';
import { controlRequest, controlSocketPath } from '@botvisor/supervisor';

/** The shipped daemon (its bundle), as the package exports it. */
export const SUPERVISOR_BIN = fileURLToPath(import.meta.resolve('@botvisor/supervisor/daemon'));
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

export const BOT_NAMES = { bridge: 'bridge', alerts: 'alerts', second: 'second' };

/** Writes botvisor.json in `dir`; returns the paths the soak needs. */
export function writeFleetConfig({ dir, simUrl, tokenA, tokenB, users, admin }) {
  const file = path.join(dir, 'botvisor.json');
  const config = {
    apiRoot: simUrl,
    dataDir: 'data',
    logDir: 'logs',
    http: { host: '127.0.0.1', port: 0 },
    supervisor: { backoffInitialMs: 100, backoffMaxMs: 2000, backoffResetAfterMs: 5000, crashBudget: 10_000, scanIntervalMs: 1000, stopGraceMs: 4000, pingIntervalMs: 2000, hungAfterMs: 15_000 },
    bots: [
      {
        name: BOT_NAMES.bridge,
        module: path.join(FIXTURES, 'recording-bridge.js'),
        token: tokenA,
        allow: users,
        admins: [admin],
        commands: {
          sleep: { argv: ['sleep', '{secs}'], args: { secs: '^[0-9]$' }, timeoutSec: 60 },
          escape: { argv: [process.execPath, path.join(FIXTURES, 'escaping-job.js'), '{secs}'], args: { secs: '^[0-9]$' }, timeoutSec: 60 },
        },
      },
      { name: BOT_NAMES.alerts, kind: 'alerts', token: tokenA, chats: [admin] },
      { name: BOT_NAMES.second, module: path.join(FIXTURES, 'recording-bot.js'), token: tokenB, allow: users },
    ],
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { file, dataDir: path.join(dir, 'data'), logDir: path.join(dir, 'logs') };
}

/** Every live process of the soak (any run), found by its markers. */
export function soakProcesses(markers) {
  const byPid = new Map();
  for (const p of [...findByEnv('CHAOS_SOAK', markers.id), ...findByEnv('TMPDIR', markers.tmp)]) {
    if (!isDeadState(p.state)) byPid.set(p.pid, p);
  }
  return [...byPid.values()];
}

/** The supervisor as a separate process: start, wait for every bot ready, kill -9, graceful stop. */
export class SupervisorProcess {
  constructor({ configFile, dataDir, logDir, markers, env }) {
    Object.assign(this, { configFile, dataDir, logDir, markers, env });
    this.child = undefined;
    this.ref = undefined;
    this.starts = 0;
  }

  get pid() {
    return this.child?.pid;
  }

  get running() {
    return this.ref !== undefined && isAlive(this.ref);
  }

  async start() {
    mkdirSync(this.logDir, { recursive: true });
    const out = openSync(path.join(this.logDir, `supervisor-stdio-${++this.starts}.log`), 'a');
    const env = { ...process.env, ...this.env, CHAOS_SOAK: this.markers.id, TMPDIR: this.markers.tmp };
    const child = spawn(process.execPath, [SUPERVISOR_BIN, '--config', this.configFile], { env, stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    child.on('error', () => undefined);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.ref = refOf(child.pid);
    await this.waitReady();
  }

  /** Resolves once the control socket reports every bot `ready`; throws with the last status seen. */
  async waitReady(timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.running) {
        const exit = await Promise.race([this.exited, sleep(200).then(() => undefined)]);
        throw new Error(`supervisor exited before ready (${JSON.stringify(exit)}): ${this.stdioTail()}`);
      }
      try {
        const status = await controlRequest(controlSocketPath(this.dataDir), { cmd: 'status' }, 3000);
        last = status.bots.map((b) => `${b.name}=${b.state}`).join(' ');
        if (status.bots.every((b) => b.state === 'ready')) return status;
      } catch (err) {
        last = err.message;
      }
      await sleep(100);
    }
    throw new Error(`the fleet was not ready within ${timeoutMs} ms: ${last}`);
  }

  async status() {
    return controlRequest(controlSocketPath(this.dataDir), { cmd: 'status' }, 5000);
  }

  stdioTail() {
    try {
      return readFileSync(path.join(this.logDir, `supervisor-stdio-${this.starts}.log`), 'utf8').slice(-2000);
    } catch {
      return '';
    }
  }

  /** The supervisor's descendants now (its bots and their CLI jobs). */
  tree() {
    if (!this.running) return [];
    return descendants(this.ref.pid).filter((p) => !isDeadState(p.state));
  }

  async kill9() {
    if (!this.running) return;
    process.kill(this.ref.pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait (the supervisor stops its bots); tree kill if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 30_000) {
    if (!this.running) return { code: null, signal: null, forced: false };
    process.kill(this.ref.pid, 'SIGTERM');
    const exit = await Promise.race([this.exited, sleep(timeoutMs).then(() => undefined)]);
    if (exit !== undefined) return { ...exit, forced: false };
    await killTree(this.ref, { graceMs: 500, deadlineMs: 5000 });
    return { ...(await this.exited), forced: true };
  }
}
