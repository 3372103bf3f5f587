/**
 * Where the sandbox lives on disk and which ports it uses: the defaults, overridden by
 * BOTVISOR_SANDBOX_DIR, BOTVISOR_SANDBOX_SIM_PORT and BOTVISOR_SANDBOX_HTTP_PORT. Pure: reads the
 * environment it is given, touches no file.
 */
import path from 'node:path';
import { CliError, EXIT } from '../exit-codes.js';

export const SANDBOX_ENV = {
  dir: 'BOTVISOR_SANDBOX_DIR',
  simPort: 'BOTVISOR_SANDBOX_SIM_PORT',
  httpPort: 'BOTVISOR_SANDBOX_HTTP_PORT',
} as const;

export const DEFAULT_SIM_PORT = 8081;
export const DEFAULT_HTTP_PORT = 8080;
/** Everything binds loopback: the sandbox is for the person at this machine. */
export const SANDBOX_HOST = '127.0.0.1';

export interface SandboxPaths {
  /** The sandbox folder: config, token, info file, data/ and logs/. */
  dir: string;
  /** The generated botvisor.json. */
  configFile: string;
  /** The fake token, in a file of its own (chmod 600), as a real installation would keep it. */
  tokenFile: string;
  /** What a running sandbox tells `botvisor chat`: sim URL, token, user, dashboard. */
  infoFile: string;
}

export interface SandboxSettings extends SandboxPaths {
  /** 0 = any free port. */
  simPort: number;
  /** 0 = any free port. */
  httpPort: number;
}

export function sandboxPaths(dir: string): SandboxPaths {
  return {
    dir,
    configFile: path.join(dir, 'botvisor.json'),
    tokenFile: path.join(dir, 'sandbox.token'),
    infoFile: path.join(dir, 'sandbox.json'),
  };
}

/** The sandbox folder: $BOTVISOR_SANDBOX_DIR, else `<cwd>/data/sandbox`. */
export function sandboxDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const fromEnv = env[SANDBOX_ENV.dir];
  return fromEnv !== undefined && fromEnv !== '' ? path.resolve(cwd, fromEnv) : path.join(cwd, 'data', 'sandbox');
}

function portFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`${name} must be a port number from 0 to 65535 (0 = any free port), got "${raw}"`, EXIT.usage);
  }
  return port;
}

export function sandboxSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): SandboxSettings {
  return {
    ...sandboxPaths(sandboxDir(env, cwd)),
    simPort: portFrom(env, SANDBOX_ENV.simPort, DEFAULT_SIM_PORT),
    httpPort: portFrom(env, SANDBOX_ENV.httpPort, DEFAULT_HTTP_PORT),
  };
}
