/**
 * The HTTP server: routes `/bot<token>/<method>` to the Bot API and `/sim/…` to the control API,
 * anything else to a 404 envelope. Closing it ends held polls and waits and drops every socket at
 * once, so a test's afterEach never waits for a long poll to run out.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BodyLimits } from './body.js';
import { isBotApiPath, serveBotApi } from './bot-api.js';
import { isControlPath, serveControlApi } from './control-api.js';
import { notFound } from './envelope.js';
import { internalError, writeError } from './http-io.js';
import type { Simulator } from './simulator.js';
import type { UserSide } from './user-side.js';

export interface ListenOptions {
  /** Default 127.0.0.1: the sim is for this machine only. */
  host?: string;
  /** Default 0: any free port (read it back from the result). */
  port?: number;
  bodyLimits: BodyLimits;
}

export interface ListeningServer {
  server: Server;
  host: string;
  port: number;
  /** `http://host:port`, the Bot API root to give a bot library. */
  url: string;
  close(): Promise<void>;
}

export async function listen(sim: Simulator, users: UserSide, options: ListenOptions): Promise<ListeningServer> {
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    if (isBotApiPath(url.pathname)) await serveBotApi(sim, req, res, url, options.bodyLimits);
    else if (isControlPath(url.pathname)) await serveControlApi(sim, users, req, res, url, options.bodyLimits);
    else writeError(res, notFound());
  };
  const server = createServer({ keepAlive: true }, (req, res) => {
    // The routes answer their own errors; this is the last line against a bug taking the process down.
    route(req, res).catch((error: unknown) => {
      sim.logger?.error('bot-api-sim: request failed', { error });
      writeError(res, internalError());
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      sim.close();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  sim.logger?.info('bot-api-sim: listening', { url });
  return { server, host, port, url, close };
}
