/**
 * The supervisor's HTTP server, the one listener for monitoring. `GET /health` answers 200 when
 * every enabled bot is ready and has no problem, else 503, with each bot's state, uptime and problem — from memory, no
 * process-table scan; `GET /metrics` answers Prometheus text. Binds 127.0.0.1 by default; with a
 * bearer token configured (required by the config for a non-loopback bind) every request must
 * carry it. Bound to loopback, it answers only requests addressed to a loopback name, like the
 * dashboard (a DNS-rebinding page is same-origin to the browser; the Host header tells it apart).
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@botvisor/core';
import type { BotState } from '../bot/bot-state.js';
import { hostNameOf, isLoopbackHost } from '../dashboard/access-policy.js';
import type { SupervisorMetrics } from './metrics.js';

export interface HealthBot {
  name: string;
  state: BotState;
  enabled: boolean;
  uptimeMs: number | null;
  /** The bot's problem sentence, or null. */
  problem: string | null;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  authToken?: string;
  health: () => HealthBot[];
  metrics: SupervisorMetrics;
  logger: Logger;
  /** More routes (the dashboard): return true when handled. */
  extraRoutes?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean | Promise<boolean>;
}

function authorized(req: http.IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export class HttpServer {
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(o: HttpServerOptions): Promise<HttpServer> {
    const loopbackOnly = isLoopbackHost(o.host);
    const server = http.createServer((req, res) => {
      void (async () => {
        if (!authorized(req, o.authToken)) {
          res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('unauthorized\n');
          return;
        }
        const url = new URL(req.url ?? '/', 'http://localhost');
        const monitoring = url.pathname === '/health' || url.pathname === '/metrics';
        if (monitoring && loopbackOnly && !isLoopbackHost(hostNameOf(req.headers.host) ?? '')) {
          json(res, 403, { error: `refused: this server answers only to a loopback address, not Host ${req.headers.host ?? '(none)'}` });
          return;
        }
        if (req.method === 'GET' && url.pathname === '/health') {
          const bots = o.health().filter((b) => b.enabled);
          // Ready is not enough: a ready bot that cannot poll or start its work is not healthy.
          const healthy = bots.every((b) => b.state === 'ready' && b.problem === null);
          json(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'degraded', bots: bots.map(({ name, state, uptimeMs, problem }) => ({ name, state, uptimeMs, problem })) });
          return;
        }
        if (req.method === 'GET' && url.pathname === '/metrics') {
          const text = await o.metrics.text();
          res.writeHead(200, { 'content-type': o.metrics.contentType });
          res.end(text);
          return;
        }
        if (o.extraRoutes !== undefined && (await o.extraRoutes(req, res))) return;
        json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
      })().catch((err: unknown) => {
        o.logger.error('HTTP request failed', { err, path: req.url });
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
        else res.end();
      });
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return new HttpServer(server, `http://${host}:${address.port}`);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
