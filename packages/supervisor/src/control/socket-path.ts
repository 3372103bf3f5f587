/**
 * Where the control socket lives. Naturally `<dataDir>/supervisor.sock`; but a Unix socket path
 * holds at most 107 bytes (103 on macOS), and a deep data dir (a Docker volume, a CI workspace)
 * passes that. Then the socket goes to a short path in a private per-user runtime folder, named by
 * a hash of the data dir, and the path is recorded in the data dir so a CLI with another
 * environment (no XDG_RUNTIME_DIR under sudo) still finds it.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makePrivateDirSync, PRIVATE_FILE_MODE } from '@botvisor/core';
import { StartupError } from '../startup-error.js';

/** The longest socket path the kernel takes (sun_path without its terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'darwin' ? 103 : 107;

export interface SocketPathPlan {
  /** `<dataDir>/supervisor.sock`. */
  natural: string;
  /** The path used: `natural` when it fits, else the short one. */
  path: string;
  /** True when `path` is the short one in the runtime folder. */
  relocated: boolean;
  /** True when `path` fits the kernel's limit. */
  fits: boolean;
}

function fits(p: string): boolean {
  return Buffer.byteLength(p) <= MAX_SOCKET_PATH_BYTES;
}

/** The per-user runtime folder for short socket paths: `$XDG_RUNTIME_DIR/botvisor/sockets`, else `/tmp/botvisor-<uid>/sockets`. */
export function socketRuntimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg !== undefined && xdg !== '' && path.isAbsolute(xdg)) return path.join(xdg, 'botvisor', 'sockets');
  return path.join(os.tmpdir(), `botvisor-${process.getuid?.() ?? 'user'}`, 'sockets');
}

/** Where the supervisor records a relocated socket's path. */
export function socketRecordPath(dataDir: string): string {
  return path.join(dataDir, 'supervisor', 'control-socket');
}

/** The socket path a supervisor on `dataDir` listens on (computed, never read from the record). */
export function planSocketPath(dataDir: string, env: NodeJS.ProcessEnv = process.env): SocketPathPlan {
  const natural = path.join(dataDir, 'supervisor.sock');
  if (fits(natural)) return { natural, path: natural, relocated: false, fits: true };
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  const short = path.join(socketRuntimeDir(env), `${hash}.sock`);
  return { natural, path: short, relocated: true, fits: fits(short) };
}

/** For clients: the socket of the supervisor on `dataDir` (its record when it relocated it). */
export function controlSocketPath(dataDir: string): string {
  const plan = planSocketPath(dataDir);
  if (!plan.relocated) return plan.path;
  try {
    const recorded = readFileSync(socketRecordPath(dataDir), 'utf8').trim();
    if (path.isAbsolute(recorded)) return recorded;
  } catch {
    // no record: the supervisor has not started, or with the same environment as this client
  }
  return plan.path;
}

/** A start-up error a person fixes in the config: the CLI prints it without a stack. */
export class SocketPathError extends StartupError {}

/**
 * For the supervisor: the socket path to listen on, with its folder created and checked private
 * and, when relocated, the path recorded. Throws SocketPathError, naming `dataDir`, when no path
 * fits or the runtime folder is not safely ours.
 */
export function prepareSocketPath(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const plan = planSocketPath(dataDir, env);
  if (!plan.relocated) return plan.path;
  if (!plan.fits) {
    throw new SocketPathError(`the control socket path ${plan.natural} is longer than ${MAX_SOCKET_PATH_BYTES} bytes and so is the short one (${plan.path}); choose a shorter "dataDir" in the config`);
  }
  const dir = path.dirname(plan.path);
  makePrivateDirSync(dir);
  for (const folder of [path.dirname(dir), dir]) {
    const st = lstatSync(folder);
    // Under a shared /tmp another user could have made the folder first: use it only if it is ours and private.
    if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0) {
      throw new SocketPathError(`the control socket path ${plan.natural} is longer than ${MAX_SOCKET_PATH_BYTES} bytes, and the folder for a short one, ${folder}, is not a private folder of this user; choose a shorter "dataDir" in the config`);
    }
  }
  const record = socketRecordPath(dataDir);
  makePrivateDirSync(path.dirname(record));
  writeFileSync(`${record}.tmp`, `${plan.path}\n`, { mode: PRIVATE_FILE_MODE });
  renameSync(`${record}.tmp`, record);
  return plan.path;
}
