/**
 * Sessions: conversations between a chat and a long-lived CLI process (an agent, a REPL).
 */
export { type Budget, BudgetLedger, type BudgetVerdict } from './budget-ledger.js';
export { LinesProtocol } from './protocols/lines-protocol.js';
export type { ProtocolName, SessionProtocol, TurnListener, TurnUsage } from './protocols/protocol.js';
export { StreamJsonProtocol } from './protocols/stream-json-protocol.js';
export type { EndReason, SessionState } from './session.js';
export { type SessionAdmission, type SessionInfo, SessionManager, type SessionManagerDeps, type SessionRequest } from './session-manager.js';
export { realSessionClock, type SessionClock, type SessionSpec } from './session-spec.js';
export { emptySessionsFile, type LiveSessionRecord, type SessionsFile, type SessionsStore, sessionsFileSchema } from './sessions-file.js';
