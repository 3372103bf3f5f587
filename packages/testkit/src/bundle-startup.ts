/**
 * What an entry of a shipped bundle loads at start, read from the metafile the bundler wrote beside
 * it (scripts/build/bundle.js): the output files and the external packages reached through static
 * imports. Dynamic imports are not followed — they load on demand, later; the external packages of
 * the whole bundle are listed too, so a test can say a package is there, only not at start.
 */
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';

interface Metafile {
  outputs: Record<string, { imports: Array<{ path: string; kind: string; external?: boolean }> }>;
}

export interface BundleStartup {
  /** Output files (names inside the bundle folder) loaded at start, the entry first. */
  files: string[];
  /** External packages (not Node's built-ins) imported at start. */
  packages: string[];
  /** External packages imported anywhere in the bundle, at start or on demand. */
  allPackages: string[];
}

const packageName = (specifier: string): string => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2) : specifier.split('/').slice(0, 1)).join('/');

/** `bundleDir` is a package's dist/bundle folder; `entry` the name of one of its entries, e.g. `bot.js`. */
export function bundleStartup(bundleDir: string, entry: string): BundleStartup {
  const meta = JSON.parse(readFileSync(path.join(bundleDir, 'metafile.json'), 'utf8')) as Metafile;
  // Output keys are relative to the package (e.g. `dist/bundle/bot.js`): map them to file names.
  const outputs = new Map(Object.entries(meta.outputs).map(([key, out]) => [path.basename(key), out]));
  if (!outputs.has(entry)) throw new Error(`${entry} is not an output of the bundle in ${bundleDir}`);
  const files: string[] = [];
  const packages = new Set<string>();
  const all = new Set<string>();
  const pending = [entry];
  for (let file = pending.shift(); file !== undefined; file = pending.shift()) {
    if (files.includes(file)) continue;
    files.push(file);
    for (const imp of outputs.get(file)?.imports ?? []) {
      if (imp.kind !== 'import-statement') continue;
      if (imp.external === true) {
        if (!isBuiltin(imp.path)) packages.add(packageName(imp.path));
      } else pending.push(path.basename(imp.path));
    }
  }
  for (const out of outputs.values()) {
    for (const imp of out.imports) if (imp.external === true && !isBuiltin(imp.path)) all.add(packageName(imp.path));
  }
  return { files, packages: [...packages], allPackages: [...all] };
}
