/**
 * A fresh protocol for one agent process, by its config name.
 */
import { LinesProtocol, type QuietTimers } from './lines-protocol.js';
import type { ProtocolName, SessionProtocol } from './protocol.js';
import { StreamJsonProtocol } from './stream-json-protocol.js';

export function createProtocol(name: ProtocolName, options: { turnIdleMs: number; timers?: QuietTimers }): SessionProtocol {
  return name === 'lines' ? new LinesProtocol(options.turnIdleMs, options.timers) : new StreamJsonProtocol();
}
