/**
 * Which config a command uses: `-c FILE`, else `$BOTVISOR_CONFIG`, else `./botvisor.json`, else
 * the built-in sandbox (when one is installed). Every command — start, stop, status — finds the
 * same installation the same way, so they agree on the data dir and so on the supervisor. Only
 * `start` resolves the secrets; the control commands load the config without reading a token.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type ControlConfig, loadConfig, loadControlConfig, type ResolvedConfig } from '@botvisor/core';
import { CliError, EXIT } from './exit-codes.js';

/** A found config: `ResolvedConfig` for start (secrets resolved), `ControlConfig` for the control commands (none read). */
export interface FoundConfig<C extends ControlConfig = ResolvedConfig> {
  config: C;
  /** The file the bots will read. */
  file: string;
  /** How it was found, for messages: "-c", "$BOTVISOR_CONFIG", "./botvisor.json", "sandbox". */
  via: string;
}

/** The config a sandbox generated, if there is one (installed by the CLI's bin; undefined until then). Never starts anything. */
export type SandboxProvider = () => string | undefined;

let sandboxProvider: SandboxProvider = () => undefined;

export function setSandboxProvider(provider: SandboxProvider): void {
  sandboxProvider = provider;
}

/** The user's own config (`-c`, `$BOTVISOR_CONFIG`, `./botvisor.json`); undefined when there is none, which is when `start` runs the sandbox. */
export function findUserConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): { file: string; via: string } | undefined {
  if (explicit !== undefined) return { file: path.resolve(cwd, explicit), via: '-c' };
  if (env.BOTVISOR_CONFIG !== undefined && env.BOTVISOR_CONFIG !== '') return { file: path.resolve(cwd, env.BOTVISOR_CONFIG), via: '$BOTVISOR_CONFIG' };
  const local = path.join(cwd, 'botvisor.json');
  if (existsSync(local)) return { file: local, via: './botvisor.json' };
  return undefined;
}

export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): { file: string; via: string } {
  const own = findUserConfigFile(explicit, env, cwd);
  if (own !== undefined) return own;
  const sandbox = sandboxProvider();
  if (sandbox !== undefined) return { file: sandbox, via: 'sandbox' };
  throw new CliError('no config found: pass -c <file>, set BOTVISOR_CONFIG, or create ./botvisor.json (see the README for an example)', EXIT.config);
}

function existingConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv): { file: string; via: string } {
  const found = findConfigFile(explicit, env);
  if (!existsSync(found.file)) throw new CliError(`config file ${found.file} (from ${found.via}) does not exist; create it or point -c at the right file`, EXIT.config);
  return found;
}

function asCliError<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.config);
    throw err;
  }
}

/** The config with its secrets resolved: for `start`, which runs the supervisor. */
export function loadFoundConfig(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): FoundConfig {
  const { file, via } = existingConfigFile(explicit, env);
  return { config: asCliError(() => loadConfig(file, { env })), file, via };
}

/** The config without reading a secret: for status, stop, restart, logs, doctor and startup. */
export function loadFoundControlConfig(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): FoundConfig<ControlConfig> {
  const { file, via } = existingConfigFile(explicit, env);
  return { config: asCliError(() => loadControlConfig(file)), file, via };
}
