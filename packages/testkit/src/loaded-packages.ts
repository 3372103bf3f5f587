/**
 * The module probe of the start-up import tests: runs an ESM snippet in a fresh Node process and
 * lists the packages it had loaded from node_modules, by name, from `require.cache` (an ESM import
 * of a CommonJS package lands there too; pure ESM packages do not).
 */
import { execFileSync } from 'node:child_process';

/** Runs `body` (an ESM snippet) in a fresh process and returns the packages it had loaded from node_modules, by name. */
export function loadedPackages(body: string): string[] {
  const script = `${body}
import { createRequire } from 'node:module';
const names = new Set(Object.keys(createRequire(import.meta.url).cache).map((f) => f.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)/)?.[1]).filter(Boolean));
process.stdout.write(JSON.stringify([...names]));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}
