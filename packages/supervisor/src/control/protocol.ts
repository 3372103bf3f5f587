/**
 * The control protocol: JSON lines over `data/supervisor.sock` (mode 0600). One request line,
 * one response line, each carrying the protocol version; every `botvisor` command is a thin
 * client of it. Requests are validated: a malformed line gets an error response, never a crash.
 */
import path from 'node:path';
import { z } from 'zod';

export const CONTROL_PROTOCOL_VERSION = 1;
/** A request line longer than this is refused (and the connection closed). */
export const MAX_REQUEST_BYTES = 64 * 1024;

export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, 'supervisor.sock');
}

export const controlRequestSchema = z.discriminatedUnion('cmd', [
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('ping') }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('status') }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('restart'), bot: z.string().min(1) }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('stop') }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('events') }),
  // One bot: a person's stop (it stays stopped) and start, and everything known about it.
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('stop-bot'), bot: z.string().min(1) }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('start-bot'), bot: z.string().min(1) }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('describe'), bot: z.string().min(1) }),
]);

export type ControlRequest = z.infer<typeof controlRequestSchema>;
export type ControlCommand = ControlRequest['cmd'];

export type ControlResponse = { v: number; id: number; ok: true; result: unknown } | { v: number; id: number; ok: false; error: string };
