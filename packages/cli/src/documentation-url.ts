/**
 * Where the installed botvisor's README is, as a file: URL for a service unit's Documentation=:
 * the nearest README.md above this file with a package.json beside it — the `botvisor` package's
 * own README when installed from the tarball, the repository's README in a checkout.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function documentationUrl(from: string = fileURLToPath(import.meta.url)): string | undefined {
  let dir = path.dirname(from);
  for (;;) {
    const readme = path.join(dir, 'README.md');
    if (existsSync(readme) && existsSync(path.join(dir, 'package.json'))) return pathToFileURL(readme).href;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
