export {
  type BotCounters,
  type FleetSummary,
  HANDLER_SECONDS_BUCKETS,
  type HelloMessage,
  IPC_PROTOCOL_VERSION,
  type IpcEvent,
  type IpcMessage,
  type IpcMessageOf,
  type IpcMessageType,
  ipcMessageSchema,
  type PongMessage,
} from './messages.js';
export { parseIpcMessage, sendIpc } from './parse.js';
