/**
 * The `status --json` contract (ARCHITECTURE.md): what `botvisor status`, the control socket and
 * monitoring read. Field names here are a promise to other tools; add, never rename.
 */
import type { BotState } from './bot/bot-state.js';
import type { ExitRecord } from './bot/exit-cause.js';

export interface LockStatus {
  /** First 16 hex of sha256(token): which token, without the token. */
  tokenHash: string;
  path: string;
  owner: { pid: number; role: string; since: string } | null;
  /** The bot that polls under this lock. */
  bot: string;
}

export interface BotStatusReport {
  name: string;
  kind: string;
  state: BotState;
  pid: number | null;
  restarts: number;
  polling: boolean;
  uptimeMs: number | null;
  /** Percent of one core, summed over the bot's process tree. */
  cpu: number;
  memoryBytes: number;
  lastExit: ExitRecord | null;
  children: Array<{ pid: number; command: string }>;
  runningJobs: number | null;
  eventLoopDelayMs: number | null;
}

export interface StatusReport {
  supervisor: { pid: number; uptimeMs: number; startedAt: string; dataDir: string; /** Where /health and /metrics answer, or null without HTTP. */ httpUrl: string | null; locks: LockStatus[] };
  bots: BotStatusReport[];
}
