/**
 * The sandbox's botvisor.json, as an object: the bots point at the local simulator, keep their
 * data and logs inside the sandbox folder, and the dashboard listens on loopback. A bridge bot
 * for the simulated user (allowed and admin) and an alerts bot on the same token, which makes it
 * send-only, reporting to the user's chat. Only builds the object; run-sandbox.ts writes it.
 */
import type { RawConfig } from '@botvisor/core';
import { demoCommands, demoSessions } from './demo-commands.js';
import { SANDBOX_CHAT_ID, SANDBOX_USER } from './sandbox-identity.js';
import { SANDBOX_HOST } from './sandbox-settings.js';

export interface SandboxConfigInput {
  simUrl: string;
  /** 0 = any free port. */
  httpPort: number;
  /** The token file, relative to the config file's folder. */
  tokenFile: string;
}

export function sandboxConfig(o: SandboxConfigInput): RawConfig {
  return {
    apiRoot: o.simUrl,
    dataDir: 'data',
    logDir: 'logs',
    // The sandbox token is fake and its Telegram is the sandbox's own simulator: its lock belongs
    // in the sandbox folder, not in the machine-wide lock directory where two sandboxes would meet.
    locksDir: 'data/locks',
    http: { host: SANDBOX_HOST, port: o.httpPort },
    // Ctrl-C should feel quick: a running demo job gets 5 s, not production's 10 s.
    supervisor: { stopGraceMs: 5000 },
    bots: [
      { name: 'bridge', kind: 'bridge', tokenFile: o.tokenFile, allow: [SANDBOX_USER.id], admins: [SANDBOX_USER.id], commands: demoCommands(), sessions: demoSessions() },
      { name: 'alerts', kind: 'alerts', tokenFile: o.tokenFile, chats: [SANDBOX_CHAT_ID] },
    ],
  };
}
