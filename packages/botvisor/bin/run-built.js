/**
 * Runs a built entry of a bundled workspace package, or says how to build it. The bin files are
 * committed (not built) so `npm ci` can link them into node_modules/.bin before the first build.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function runBuilt(specifier, name) {
  const file = fileURLToPath(import.meta.resolve(specifier));
  if (!existsSync(file)) {
    process.stderr.write(`${name}: ${file} is not built yet; run npm run build in the botvisor repository\n`);
    process.exit(1);
  }
  await import(specifier);
}
