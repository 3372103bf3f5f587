/**
 * The control protocol: JSON lines over `data/supervisor.sock` (mode 0600). One request line,
 * one response line, each carrying the protocol version; every `botvisor` command is a thin
 * client of it. Requests are validated: a malformed line gets an error response, never a crash.
 */
import * as z from 'zod'; // a namespace import, so a bundle keeps only the parts used (not zod's 64 locales)

export const CONTROL_PROTOCOL_VERSION = 1;
/** A request line longer than this is refused (and the connection closed). */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** `<dataDir>/supervisor.sock`, or a short path when that one is too long for a socket (socket-path.ts). */
export { controlSocketPath } from './socket-path.js';

export const controlRequestSchema = z.discriminatedUnion('cmd', [
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('ping') }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('status') }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('restart'), bot: z.string().min(1) }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('stop') }),
  /** Re-read the config and apply it to one bot or (default) all; the reply is the ReloadResult. */
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('reload'), bot: z.string().min(1).optional() }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('events') }),
  /** A one-time dashboard login link: the socket is 0600, so whoever may ask is the owner. */
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('dashboard-login') }),
  // One bot: a person's stop (it stays stopped) and start, and everything known about it.
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('stop-bot'), bot: z.string().min(1) }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('start-bot'), bot: z.string().min(1) }),
  z.object({ v: z.number().int(), id: z.number().int(), cmd: z.literal('describe'), bot: z.string().min(1) }),
]);

export type ControlRequest = z.infer<typeof controlRequestSchema>;
export type ControlCommand = ControlRequest['cmd'];

export type ControlResponse = { v: number; id: number; ok: true; result: unknown } | { v: number; id: number; ok: false; error: string };
