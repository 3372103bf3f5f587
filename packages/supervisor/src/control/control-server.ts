/**
 * The control socket server: `data/supervisor.sock`, created with mode 0600 (only the owner may
 * connect), one JSON line per message. A socket file left by a dead supervisor is detected by a
 * connect probe and replaced; a live one is never taken over. A connection holds at most
 * MAX_OUTSTANDING_REPLIES requests whose replies have not reached the kernel: a client that
 * pipelines requests and never reads is dropped instead of growing the supervisor's memory.
 */
import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import type { Logger } from '@botvisor/core';
import { CONTROL_PROTOCOL_VERSION, type ControlRequest, type ControlResponse, controlRequestSchema, MAX_REQUEST_BYTES } from './protocol.js';

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

/** Requests per connection still being answered or with a reply not yet flushed; past it the connection is dropped. */
export const MAX_OUTSTANDING_REPLIES = 64;

/** True if something accepts connections on the socket path. */
export function probeSocket(socketPath: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const done = (alive: boolean) => {
      s.destroy();
      resolve(alive);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(timeoutMs, () => done(false));
  });
}

export class ControlServer {
  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {}

  static async start(socketPath: string, handle: ControlHandler, logger: Logger): Promise<ControlServer> {
    if (await probeSocket(socketPath)) throw new Error(`${socketPath} is in use by a live process; is another botvisor running on this data dir?`);
    rmSync(socketPath, { force: true }); // a stale socket from a supervisor that died
    const server = net.createServer((conn) => serve(conn, handle, logger));
    const previousUmask = process.umask(0o177); // the socket is born 0600: no window where others may connect
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => resolve());
      });
    } finally {
      process.umask(previousUmask);
    }
    chmodSync(socketPath, 0o600);
    return new ControlServer(server, socketPath);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.socketPath, { force: true });
  }
}

function serve(conn: net.Socket, handle: ControlHandler, logger: Logger): void {
  let buffer = '';
  let outstanding = 0;
  const settled = (): void => {
    outstanding--;
  };
  conn.setEncoding('utf8');
  conn.on('error', () => undefined); // a client that hangs up is not our problem
  conn.on('data', (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl >= 0 && !conn.destroyed) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() !== '') {
        if (++outstanding > MAX_OUTSTANDING_REPLIES) {
          logger.warning('dropped a control connection that sent requests without reading the replies', { outstanding });
          conn.destroy();
          return;
        }
        void answer(conn, line, handle, logger, settled);
      }
      nl = buffer.indexOf('\n');
    }
    // Only the unfinished line counts: a chunk of many short pipelined requests is not one long one.
    if (buffer.length > MAX_REQUEST_BYTES && !conn.destroyed) {
      reply(conn, () => undefined, { v: CONTROL_PROTOCOL_VERSION, id: 0, ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes` });
      conn.end();
      buffer = '';
    }
  });
}

async function answer(conn: net.Socket, line: string, handle: ControlHandler, logger: Logger, flushed: () => void): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    reply(conn, flushed, { v: CONTROL_PROTOCOL_VERSION, id: 0, ok: false, error: 'not a JSON line' });
    return;
  }
  const parsed = controlRequestSchema.safeParse(raw);
  const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : 0;
  if (!parsed.success) {
    reply(conn, flushed, { v: CONTROL_PROTOCOL_VERSION, id, ok: false, error: `bad request: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ')}` });
    return;
  }
  if (parsed.data.v !== CONTROL_PROTOCOL_VERSION) {
    reply(conn, flushed, { v: CONTROL_PROTOCOL_VERSION, id, ok: false, error: `protocol version ${parsed.data.v} is not supported (this supervisor speaks ${CONTROL_PROTOCOL_VERSION}); use the botvisor CLI of the same version` });
    return;
  }
  try {
    reply(conn, flushed, { v: CONTROL_PROTOCOL_VERSION, id, ok: true, result: await handle(parsed.data) });
  } catch (err) {
    logger.warning('control request failed', { cmd: parsed.data.cmd, err });
    reply(conn, flushed, { v: CONTROL_PROTOCOL_VERSION, id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}

/** Writes one response line; `flushed` runs once it has left for the kernel (or never will). */
function reply(conn: net.Socket, flushed: () => void, response: ControlResponse): void {
  if (conn.destroyed) flushed();
  else conn.write(`${JSON.stringify(response)}\n`, () => flushed());
}
