// An esbuild plugin for every bundle: winston's internal debug channel (@dabh/diagnostics) is its
// production build whatever NODE_ENV says. The development build, picked at run time when NODE_ENV
// is not "production", loads a colour library (colorspace, color-convert and their tables) to
// print winston's own `DEBUG=winston:*` lines: ~3 MB of RSS in every process (issue 18). The
// systemd unit sets NODE_ENV=production and so already ran the production build; now `botvisor
// start` from a shell, launchd and the sandbox do too. What is lost: `DEBUG=winston:*` output of
// winston's internals in a bundled process (run tsc's output to get it, see docs/architecture.md).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const productionDiagnostics = {
  name: 'production-diagnostics',
  setup(build) {
    build.onResolve({ filter: /^@dabh\/diagnostics$/ }, ({ resolveDir }) => ({
      path: createRequire(`${resolveDir}/`).resolve('@dabh/diagnostics/node/production.js'),
    }));
  },
};

// Fails the build at once if the package no longer has the file this plugin points at.
require.resolve('@dabh/diagnostics/node/production.js');
