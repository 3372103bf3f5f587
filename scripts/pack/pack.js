// `npm run pack`: builds the one installable package, dist/botvisor-<version>.tgz. It is
// packages/botvisor (the `botvisor` and `bot-api-sim` bins, `import { defineBot } from 'botvisor'`)
// with the workspace packages it runs on bundled inside it (bundleDependencies), so installing the
// tarball asks the registry only for the third-party dependencies, never for a name of ours.
// Each workspace package's own `files` decides what ships (npm pack selects them); their
// third-party dependencies are declared on the bundle, where npm installs them.
//   node scripts/pack/pack.js [--out DIR] [--json]   (after npm run build; prints the tarball's path)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUBLIC_DIR = path.join(ROOT, 'packages', 'botvisor');
const DEFAULT_OUT_DIR = path.join(ROOT, 'dist');
const OURS = /^@botvisor\//;

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const npm = (args, cwd) => execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/** The third-party dependencies of the bundled packages, one range per name (a conflict is a build error, not a guess). */
function thirdPartyDependencies(manifests) {
  const union = {};
  for (const m of manifests) {
    for (const [name, range] of Object.entries(m.dependencies ?? {})) {
      if (OURS.test(name)) continue;
      if (union[name] !== undefined && union[name] !== range) throw new Error(`${m.name} wants ${name}@${range} but another bundled package wants ${union[name]}; align them`);
      union[name] = range;
    }
  }
  return Object.fromEntries(Object.entries(union).sort(([a], [b]) => a.localeCompare(b)));
}

/** The files a manifest's `exports` and `bin` point at (tsc's output, the bundles of scripts/build/bundle.js). */
function entryFiles(manifest) {
  const targets = [];
  const walk = (v) => {
    if (typeof v === 'string') targets.push(v);
    else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  walk(manifest.exports);
  walk(manifest.bin);
  return targets.filter((t) => !t.includes('*'));
}

/** Packs into `outDir` (the repository's dist/ by default, git-ignored); the staging folder is outDir/pack/botvisor. */
export function pack(outDir = DEFAULT_OUT_DIR) {
  const stage = path.join(outDir, 'pack', 'botvisor');
  const publicManifest = readJson(path.join(PUBLIC_DIR, 'package.json'));
  const bundled = Object.keys(publicManifest.dependencies).filter((n) => OURS.test(n));
  for (const name of bundled) {
    const dir = path.join(ROOT, 'packages', name.slice('@botvisor/'.length));
    const missing = entryFiles(readJson(path.join(dir, 'package.json'))).filter((f) => !existsSync(path.join(dir, f)));
    if (missing.length > 0) throw new Error(`${name} is not built (${missing.join(', ')} missing); run npm run build first`);
  }

  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'botvisor-pack-'));
  try {
    // npm pack per workspace: each package's `files` decides what ships, exactly as a publish would.
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', scratch, ...bundled.flatMap((n) => ['-w', n])], ROOT));
    const manifests = [];
    for (const p of packed) {
      const into = path.join(stage, 'node_modules', p.name);
      mkdirSync(into, { recursive: true });
      execFileSync('tar', ['-xzf', path.join(scratch, p.filename), '-C', into, '--strip-components=1']);
      const manifest = readJson(path.join(into, 'package.json'));
      const { devDependencies: _dev, private: _private, scripts: _scripts, ...shipped } = manifest;
      writeFileSync(path.join(into, 'package.json'), `${JSON.stringify(shipped, null, 2)}\n`);
      manifests.push(manifest);
    }
    for (const f of publicManifest.files) if (f !== 'README.md') cpSync(path.join(PUBLIC_DIR, f), path.join(stage, f), { recursive: true });
    cpSync(path.join(ROOT, 'README.md'), path.join(stage, 'README.md'));
    const { private: _private, ...rest } = publicManifest;
    const manifest = { ...rest, dependencies: { ...publicManifest.dependencies, ...thirdPartyDependencies(manifests) }, bundleDependencies: bundled };
    writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    const [result] = JSON.parse(npm(['pack', '--json', '--pack-destination', outDir], stage));
    return { file: path.join(outDir, result.filename), files: result.entryCount, bytes: result.size, bundled };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const result = pack(values.out === undefined ? undefined : path.resolve(values.out));
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${result.file} (${result.files} files, ${Math.round(result.bytes / 1024)} kB; bundles ${result.bundled.join(', ')})\n`);
}
