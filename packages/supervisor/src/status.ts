/**
 * The `status --json` contract (ARCHITECTURE.md): the one shape every status reader sees
 * (`botvisor status`, the control socket, monitoring). Field names here are a promise to other tools; add, never rename.
 */
import type { StateChange } from './bot/bot-state.js';
import type { BotStatus } from './bot/managed-bot.js';
import type { ClusterLeaseStatus } from './cluster/token-lease.js';

export interface LockStatus {
  /** First 16 hex of sha256(token): which token, without the token. */
  tokenHash: string;
  path: string;
  /** Who holds the lock now: this supervisor, or (while `waiting`) the other installation or hand-run bot; null when unknown or lost. */
  owner: { pid: number; role: string; since: string; /** The holder's config file. */ config?: string } | null;
  /** The bot that polls under this lock. */
  bot: string;
  /** True while this supervisor holds the lock: its bot polls only then. */
  held: boolean;
  /** `held`; `waiting` for another holder to let go; `lost` (compromised) and being taken back; `released` at stop. */
  state: 'held' | 'waiting' | 'lost' | 'released';
  /** Cluster mode: this token's lease in PostgreSQL as this node sees it (`role` active: its bot polls here); null on one machine. */
  cluster: ClusterLeaseStatus | null;
}

/** One bot: what its ManagedBot knows, plus the usage of its whole process tree (measured per request). */
export interface BotStatusReport extends BotStatus {
  /** Percent of one core, summed over the bot's process tree. */
  cpu: number;
  memoryBytes: number;
  /** True while a person's `botvisor stop <bot>` keeps it stopped (until `start <bot>`): no restart, and /health leaves it out. */
  stoppedByPerson: boolean;
}

export interface StatusReport {
  supervisor: {
    pid: number;
    uptimeMs: number;
    startedAt: string;
    dataDir: string;
    /** Where /health and /metrics answer, or null without HTTP. */
    httpUrl: string | null;
    locks: LockStatus[];
    /** The config file the fleet was started with (absolute). */
    configFile: string;
    /** sha256 of that file's bytes at start (config-fingerprint.ts), or null if it could not be read: a different hash now means the fleet runs an older config. */
    configHash: string | null;
  };
  bots: BotStatusReport[];
}

/** One state change of a bot, for people and tools: `at` as an ISO time. */
export interface StateChangeReport extends Omit<StateChange, 'at'> {
  at: string;
}

/** `describe <bot>` over the control socket: the bot's status plus what only the supervisor knows of its past and its lock. */
export interface BotDescription {
  bot: BotStatusReport;
  /** The recent state changes, oldest first (at most STATE_HISTORY_LENGTH). */
  history: StateChangeReport[];
  /** Its token's polling lock, for a polling bot; null for a send-only one. */
  lock: LockStatus | null;
}
