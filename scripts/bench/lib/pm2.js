/**
 * PM2 as the benchmarks' peer: its CLI run as a tracked child (killed with the run), one call at a
 * time, resolving with what it printed or rejecting with it.
 */
import path from 'node:path';
import { REPO } from './common.js';

export const PM2_BIN = path.join(REPO, 'node_modules/pm2/bin/pm2');

/** `pm2 …args` in `env` (its PM2_HOME decides which daemon); rejects on a non-zero exit or after `timeoutMs`. */
export function pm2(run, env, args, timeoutMs = 30_000) {
  const child = run.tracker.spawn(process.execPath, [PM2_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => {
    out += c.toString();
  });
  child.stderr.on('data', (c) => {
    out += c.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pm2 ${args.join(' ')} did not finish within ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`pm2 ${args.join(' ')} exited ${code}: ${out}`));
    });
  });
}
