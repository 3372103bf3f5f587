/**
 * Runs the built `botvisor` command as a user would, for the CLI's tests: a real process, tracked
 * by the test bed (so an escaped daemon is still cleaned up), its output and exit code collected.
 */
import { fileURLToPath } from 'node:url';
import { exited, type ProcessTracker } from '@botvisor/testkit';

export const CLI = fileURLToPath(import.meta.resolve('@botvisor/cli/bin'));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `botvisor …args` with `env` added to this process's environment; resolves when it exits. */
export async function runCli(tracker: ProcessTracker, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const child = tracker.spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await exited(child);
  return { code: typeof code === 'number' ? code : -1, stdout, stderr };
}
