/**
 * The config lookup's last step for every command but `start`: the sandbox's generated config,
 * if a sandbox has run in this folder. It only finds a file; it never starts anything (`start`
 * with no config runs the sandbox itself, see run-sandbox.ts).
 */
import { existsSync } from 'node:fs';
import { sandboxDir, sandboxPaths } from './sandbox-settings.js';

export function existingSandboxConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  const { configFile } = sandboxPaths(sandboxDir(env, cwd));
  return existsSync(configFile) ? configFile : undefined;
}
