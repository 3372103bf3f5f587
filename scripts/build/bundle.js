// `npm run build`, second step (after `tsc -b`): bundles the entries of the processes botvisor
// starts — the bot process, the supervisor daemon, the CLI (which hosts the supervisor for
// `botvisor start`) and the built-in bots — from tsc's output into each package's dist/bundle/.
// Why: an idle Node process pays ~35–45 KB of RSS per loaded module; an unbundled bot loads ~410
// (zod with its 64 locales, winston's tree, our ~130 files), a bundle a handful. See
// docs/architecture.md, "How processes are shipped (bundles)".
//   node scripts/build/bundle.js [--analyze]
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { deferRequestProbe } from './defer-request-probe.js';
import { productionDiagnostics } from './production-diagnostics.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Loaded only when needed (cluster mode, the first /metrics scrape), so they stay out of every
 * bundle and load from node_modules as before: bundling them would save no idle memory.
 */
const LAZY_PACKAGES = ['pg', 'prom-client'];

/**
 * The bundles of one package. Entries of one package share chunks (code splitting), so a bot's
 * `import { defineBot } from '@botvisor/runtime'` and the bot entry run one copy of each class.
 * `external` are the packages a bundle imports at run time instead of containing them.
 */
const PACKAGES = [
  { dir: 'runtime', entries: { index: 'index.js', sessions: 'sessions/index.js', bot: 'bin/bot.js' }, external: [] },
  // The built-in bots run in a bot process: the runtime is the one the bot entry loaded (one copy).
  { dir: 'bots', entries: { index: 'index.js', bridge: 'bridge/index.js', alerts: 'alerts/index.js' }, external: ['@botvisor/runtime', '@botvisor/runtime/*'] },
  { dir: 'supervisor', entries: { supervisor: 'bin/supervisor.js' }, external: [] },
  { dir: 'cli', entries: { botvisor: 'bin/botvisor.js' }, external: [] },
];

/**
 * CommonJS dependencies (winston's tree, proper-lockfile…) are bundled too; their `require` of
 * Node's built-ins needs a real `require` in ESM output, made here for each output file.
 */
const BANNER = "import { createRequire as __botvisorCreateRequire } from 'node:module';\nconst require = __botvisorCreateRequire(import.meta.url);";

export async function bundlePackage({ dir, entries, external }, { analyze = false } = {}) {
  const pkg = path.join(ROOT, 'packages', dir);
  const outdir = path.join(pkg, 'dist', 'bundle');
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: pkg,
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, path.join(pkg, 'dist', 'src', file)])),
    outdir,
    // Flat: every file of a bundle sits two levels under the package, as dist/src/*.js does, so `../../package.json` still finds it.
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: [...LAZY_PACKAGES, ...external],
    banner: { js: BANNER },
    // No `keepNames`: its `__name(fn, …)` call per function and class at load cost 4.8 MB RSS in a
    // bot. Identifiers are not minified, so stack frames keep the source's names (a name two modules
    // share may get a suffix, `Backoff2`); our errors set `name` themselves.
    keepNames: false,
    // Beside the bundle, never shipped (see each package's `files`), read only with --enable-source-maps: maps a stack to the TypeScript.
    sourcemap: 'linked',
    legalComments: 'none',
    // Shorter source is less memory (V8 keeps every script's text): −3.5 MB RSS in a bot process.
    // Identifiers are kept (−0.3 MB more would cost readable stack frames).
    minifyWhitespace: true,
    minifySyntax: true,
    metafile: true,
    plugins: [deferRequestProbe, productionDiagnostics],
    logLevel: 'warning',
  });
  // What each output imports, statically or on demand: the start-up import tests (testkit's bundleStartup) read it; never shipped.
  writeFileSync(path.join(outdir, 'metafile.json'), JSON.stringify(result.metafile));
  if (analyze) {
    const inputs = Object.keys(result.metafile.inputs);
    process.stdout.write(`${dir}: ${inputs.length} modules bundled (${inputs.filter((f) => f.includes('node_modules')).length} from node_modules)\n`);
  }
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { analyze: { type: 'boolean', default: false } } });
  for (const p of PACKAGES) await bundlePackage(p, { analyze: values.analyze });
}
