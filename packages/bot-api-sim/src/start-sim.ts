/**
 * `startSim`: a simulator and its HTTP server in this process, ready for a test. The handle gives
 * the URL to hand a bot library as its API root, a control-API client, direct access to the
 * simulator, and a `close()` that is quick and safe to call twice.
 */
import { type BodyLimits, defaultBodyLimits } from './body.js';
import { type ListenOptions, listen } from './server.js';
import { SimClient } from './sim-client.js';
import { Simulator, type SimulatorOptions } from './simulator.js';
import { UserSide } from './user-side.js';

export interface StartSimOptions extends SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port; read `port` back). */
  port?: number;
  /** Largest accepted bodies; defaults: 2 MiB of fields, 50 MB per file (Telegram's upload limit for bots). */
  bodyLimits?: Partial<BodyLimits>;
}

export interface SimHandle {
  /** `http://127.0.0.1:<port>`: the Bot API root (node-telegram-bot-api's `apiRoot`, grammY's `apiRoot`…). */
  url: string;
  host: string;
  port: number;
  /** The control API over HTTP. */
  client: SimClient;
  /** In-process access to the simulated Telegram (bots, flood control, faults). */
  simulator: Simulator;
  /** In-process user actions, the same as the control API's. */
  users: UserSide;
  /** `<url>/bot<token>`: the base URL for raw HTTP calls. */
  botUrl(token: string): string;
  /** Ends held polls and waits, drops every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

export async function startSim(options: StartSimOptions = {}): Promise<SimHandle> {
  const simulator = new Simulator(options);
  const users = new UserSide(simulator);
  const listenOptions: ListenOptions = { bodyLimits: { ...defaultBodyLimits, ...options.bodyLimits } };
  if (options.host !== undefined) listenOptions.host = options.host;
  if (options.port !== undefined) listenOptions.port = options.port;
  const server = await listen(simulator, users, listenOptions);
  return {
    url: server.url,
    host: server.host,
    port: server.port,
    client: new SimClient(server.url),
    simulator,
    users,
    botUrl: (token) => `${server.url}/bot${token}`,
    close: server.close,
  };
}
