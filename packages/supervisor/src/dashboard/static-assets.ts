/**
 * The page's files (`packages/supervisor/dashboard/`: index.html, dashboard.css, dashboard.js,
 * plus uPlot's script and style from its npm package — no CDN), served from a fixed list — no
 * path from the URL ever reaches the file system. Plain files, no build step: tsc does not copy
 * them, so they are read from the package folder. Read once, then answered from memory.
 */
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const requireHere = createRequire(import.meta.url);

/** A file of an installed package (the charting library), found the way Node finds modules. */
function packageFile(specifier: string): URL {
  return pathToFileURL(requireHere.resolve(specifier));
}

/** `packages/supervisor/dashboard/`, found through the package's exports: the same folder from tsc's output and from a bundle (the daemon's, the CLI's). */
export const ASSET_DIR = new URL('dashboard/', import.meta.resolve('@botvisor/supervisor/package.json'));

/** `file` is in the page's folder; `from` names a package's file instead. */
const FILES: Record<string, { file: string; type: string; from?: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/assets/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/assets/uplot.min.js': { file: 'uplot.min.js', from: 'uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/assets/uplot.min.css': { file: 'uplot.min.css', from: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};

/** Only our own files run and load; nothing may frame the page. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  // Small files, and a new version must show after an upgrade: revalidate every time.
  'cache-control': 'no-cache',
} as const;

export class StaticAssets {
  private readonly cache = new Map<string, Buffer>();

  constructor(private readonly dir: URL = ASSET_DIR) {}

  has(pathname: string): boolean {
    return Object.hasOwn(FILES, pathname);
  }

  async serve(pathname: string, res: http.ServerResponse, headOnly: boolean): Promise<void> {
    const entry = FILES[pathname];
    if (entry === undefined) throw new Error(`not a dashboard asset: ${pathname}`);
    let body = this.cache.get(entry.file);
    if (body === undefined) {
      body = await readFile(entry.from !== undefined ? packageFile(entry.from) : new URL(entry.file, this.dir));
      this.cache.set(entry.file, body);
    }
    res.writeHead(200, { ...PAGE_HEADERS, 'content-type': entry.type, 'content-length': String(body.length) });
    res.end(headOnly ? undefined : body);
  }
}
