/**
 * The client side of the control socket, for the `botvisor` CLI. One request gets one response
 * within a timeout; its errors say what to do ("botvisor is not running").
 */
import net from 'node:net';
import { CONTROL_PROTOCOL_VERSION, type ControlRequest, type ControlResponse } from './protocol.js';

export class NotRunningError extends Error {
  override readonly name = 'NotRunningError';
}

type RequestBody = ControlRequest extends infer R ? (R extends ControlRequest ? Omit<R, 'v' | 'id'> : never) : never;

let nextId = 1;

export function controlRequest<T = unknown>(socketPath: string, body: RequestBody, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    const conn = net.connect(socketPath);
    let buffer = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`the supervisor did not answer "${body.cmd}" within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.setEncoding('utf8');
    conn.once('connect', () => conn.write(`${JSON.stringify({ v: CONTROL_PROTOCOL_VERSION, id, ...body })}\n`));
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      conn.end();
      const response = JSON.parse(buffer.slice(0, nl)) as ControlResponse;
      if (response.ok) resolve(response.result as T);
      else reject(new Error(response.error));
    });
    conn.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new NotRunningError(`botvisor is not running (no supervisor answers on ${socketPath})`));
      else reject(err);
    });
  });
}
