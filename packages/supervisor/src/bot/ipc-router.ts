/**
 * The supervisor's side of the bot → supervisor IPC contract: every message a bot may send is
 * parsed and handed to the handler for its type. The handler table is that contract, written
 * out; a message of any other type is dropped with a WARNING, a malformed one by parseIpcMessage.
 */
import { type IpcMessageOf, type Logger, parseIpcMessage } from '@botvisor/core';

export type BotMessageType =
  | 'ready'
  | 'pong'
  | 'child-spawned'
  | 'child-exited'
  | 'subscribe-events'
  | 'event'
  | 'status-request'
  | 'problem'
  | 'inbox-released'
  | 'settled'
  | 'stores-released'
  | 'reload-request';

export type BotMessageHandlers = { [T in BotMessageType]: (message: IpcMessageOf<T>) => void };

export function routeBotMessages(handlers: BotMessageHandlers, logger: Logger): (raw: unknown) => void {
  return (raw) => {
    const message = parseIpcMessage(raw, logger);
    if (message === undefined) return;
    if (!(message.type in handlers)) {
      logger.warning('unexpected IPC message from a bot', { type: message.type });
      return;
    }
    (handlers[message.type as BotMessageType] as (m: typeof message) => void)(message);
  };
}
