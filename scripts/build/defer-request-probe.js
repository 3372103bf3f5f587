// An esbuild plugin for the bot bundles: node-telegram-bot-api 2.1's encodeForm probes, on every
// call, whether the global fetch can stream a request body (`new Request(…)`), though only a
// multipart upload uses the answer. In Node 20 the first touch of `Request` loads undici: ~12 MB
// of RSS in every bot, from its first API call, for a bot that never sends a file (issue 18). The
// patch moves the probe into the upload branch; the answer and its cache are the library's own.
// The build fails if the code it patches is not there (a new version of the library): then check
// whether the patch is still needed, and adapt or drop it.
import { readFile } from 'node:fs/promises';

const PARAMETER = 'streaming = supportsRequestStreams()) {';
const UPLOAD_BRANCH = '    const { boundary, pieces, replayable } = multipartBody(strings, files);';

export const deferRequestProbe = {
  name: 'defer-request-probe',
  setup(build) {
    build.onLoad({ filter: /node-telegram-bot-api[\\/]dist[\\/]core[\\/]encode\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      if (!source.includes(PARAMETER) || !source.includes(UPLOAD_BRANCH)) throw new Error(`defer-request-probe: ${path} is not the encodeForm it patches (node-telegram-bot-api changed); see scripts/build/defer-request-probe.js`);
      const patched = source.replace(PARAMETER, 'streaming) {').replace(UPLOAD_BRANCH, `${UPLOAD_BRANCH}\n    streaming ??= supportsRequestStreams();`);
      return { contents: patched, loader: 'js' };
    });
  },
};
