/**
 * The receiving side of IPC: validates a raw message and drops a malformed one with a WARNING.
 */
import type { Logger } from '../log/logger.js';
import { type IpcMessage, ipcMessageSchema } from './messages.js';

/** The message if it is one of ours, else undefined (after one WARNING naming what was wrong, never the payload itself). */
export function parseIpcMessage(raw: unknown, logger?: Logger): IpcMessage | undefined {
  const result = ipcMessageSchema.safeParse(raw);
  if (result.success) return result.data;
  const type = typeof raw === 'object' && raw !== null && 'type' in raw ? String((raw as { type: unknown }).type) : typeof raw;
  const problems = result.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`);
  logger?.warning('dropped a malformed IPC message', { type, problems });
  return undefined;
}

/** Sends a typed message if the channel is open; returns false when it is not (the peer is gone). */
export function sendIpc(target: { connected?: boolean; send?(message: IpcMessage): boolean }, message: IpcMessage): boolean {
  if (target.send === undefined || target.connected === false) return false;
  try {
    return target.send(message);
  } catch {
    return false; // ERR_IPC_CHANNEL_CLOSED between the check and the send
  }
}
