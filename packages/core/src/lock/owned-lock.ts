/**
 * An owned lock: a proper-lockfile lock plus an owner record beside it
 * (`{ pid, startTime, role, hostname, since, config? }`), so that anyone who finds the lock taken
 * can say who holds it (and from which installation), and a lock whose owner is dead is reclaimed
 * at once instead of waiting out proper-lockfile's stale timer. A lock whose owner record names a
 * live process on this host is never taken as stale, however old its mtime: its owner may only be
 * paused (SIGSTOP, a suspended VM) while what it protects still runs. Shared by the polling lock
 * and the store's single-writer guard.
 *
 * Reclaiming is done under a short-lived guard directory, so two processes that both see a dead
 * owner cannot both delete the lock (one of them possibly just after the other re-took it).
 * Lock folders are 0700 and owner records 0600, like everything botvisor writes (fs/private-paths.ts).
 */
import fs, { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { makePrivateDirSync, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../fs/private-paths.js';
import type { Logger } from '../log/logger.js';
import { isAlive, selfRef } from '../process/identity.js';

export interface LockOwner {
  pid: number;
  startTime: number;
  role: string;
  hostname: string;
  /** ISO time the lock was taken. */
  since: string;
  /** The config file of the installation that holds it, when the holder has one. */
  config?: string;
}

/** "supervisor pid 4242 (config /srv/a/botvisor.json)": who holds a lock, for a person. */
export function describeLockOwner(owner: LockOwner): string {
  return `${owner.role} pid ${owner.pid}${owner.config !== undefined ? ` (config ${owner.config})` : ''}`;
}

export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';
  constructor(
    readonly subject: string,
    readonly lockPath: string,
    readonly owner: LockOwner | undefined,
  ) {
    super(
      owner === undefined
        ? `${subject} is held by a process that has not written its owner record yet (${lockPath})`
        : `${subject} is held by ${describeLockOwner(owner)} since ${owner.since}`,
    );
  }
}

export interface OwnedLockOptions {
  /** The lock itself (a directory, as proper-lockfile makes it), e.g. `data/locks/ab12….lock`. */
  lockPath: string;
  /** Who takes it: `supervisor`, `main`, `auxiliary`, `writer`, … — shown to whoever finds it held. */
  role: string;
  /** The taker's config file, written into the owner record (another installation names it). */
  config?: string;
  /** How long to keep trying before `LockHeldError`. 0 = one attempt (after reclaiming a dead owner's lock). */
  timeoutMs?: number;
  /** For messages: "Telegram polling lock for this token". */
  subject?: string;
  /** proper-lockfile's staleness: a lock whose mtime is older than this and has no live owner record is taken over. Default 10 s. */
  staleMs?: number;
  retryMs?: number;
  logger?: Logger;
  /** Called (after an ERROR log) if the lock is lost while held: the holder must stop doing what the lock protects. */
  onCompromised?: (err: Error) => void;
}

export interface HeldLock {
  readonly lockPath: string;
  readonly owner: LockOwner;
  /** True once proper-lockfile reported the lock compromised. */
  readonly compromised: boolean;
  release(): Promise<void>;
}

export function ownerPathFor(lockPath: string): string {
  return `${lockPath.replace(/\.lock$/, '')}.owner.json`;
}

/** The owner record beside a lock, or undefined if there is none or it does not parse. */
export function readLockOwner(lockPath: string): LockOwner | undefined {
  try {
    const raw = JSON.parse(readFileSync(ownerPathFor(lockPath), 'utf8')) as Partial<LockOwner>;
    if (typeof raw.pid !== 'number' || typeof raw.startTime !== 'number' || typeof raw.role !== 'string') return undefined;
    return {
      pid: raw.pid,
      startTime: raw.startTime,
      role: raw.role,
      hostname: String(raw.hostname ?? ''),
      since: String(raw.since ?? ''),
      ...(typeof raw.config === 'string' ? { config: raw.config } : {}),
    };
  } catch {
    return undefined;
  }
}

function lockExists(lockPath: string): boolean {
  try {
    statSync(lockPath);
    return true;
  } catch {
    return false;
  }
}

/** An owner we can judge: one on this host. An owner on another host (a shared folder) is respected, never judged dead. */
function ownerIsDead(owner: LockOwner): boolean {
  return owner.hostname === os.hostname() && !isAlive({ pid: owner.pid, startTime: owner.startTime });
}

/** The lock exists and its owner record names a process alive on this host. */
function heldByLiveOwner(lockPath: string): boolean {
  const owner = readLockOwner(lockPath);
  return owner !== undefined && owner.hostname === os.hostname() && lockExists(lockPath) && isAlive({ pid: owner.pid, startTime: owner.startTime });
}

const GUARD_STALE_MS = 5000;

/**
 * A lock without an owner record older than this was abandoned: a live acquirer writes its record
 * within milliseconds of taking the lock, so only a process killed in between leaves this state.
 */
const ORPHAN_LOCK_MS = 2000;

function lockAgeMs(lockPath: string): number | undefined {
  try {
    return Date.now() - statSync(lockPath).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Why the lock at `lockPath` may be removed now, or undefined if it may not. */
function reclaimReason(lockPath: string): { owner: LockOwner | undefined; why: string } | undefined {
  const owner = readLockOwner(lockPath);
  if (owner !== undefined) return lockExists(lockPath) && ownerIsDead(owner) ? { owner, why: 'its owner is dead' } : undefined;
  const age = lockAgeMs(lockPath);
  if (age !== undefined && age > ORPHAN_LOCK_MS && !existsSync(ownerPathFor(lockPath))) return { owner: undefined, why: 'its owner died before writing an owner record' };
  return undefined;
}

/**
 * If the lock exists and its owner record names a dead process (or it has no owner record and
 * is older than a live acquirer would leave it), removes it (with a WARNING) and returns true.
 * Safe against concurrent reclaimers.
 */
export function reclaimIfOwnerDead(lockPath: string, logger?: Logger, subject = 'lock'): boolean {
  if (reclaimReason(lockPath) === undefined) return false;
  const guard = `${lockPath}.reclaim`;
  try {
    mkdirSync(guard, PRIVATE_DIR_MODE);
  } catch {
    try {
      // A reclaimer that died inside the guard would block everyone: the guard only lives for milliseconds.
      if (Date.now() - statSync(guard).mtimeMs > GUARD_STALE_MS) rmSync(guard, { recursive: true, force: true });
    } catch {
      // gone already
    }
    return false;
  }
  try {
    const reason = reclaimReason(lockPath); // again, under the guard: someone may have re-taken it
    if (reason === undefined) return false;
    // Owner record first: between the two removals the lock reads as "being taken", which nobody reclaims.
    rmSync(ownerPathFor(lockPath), { force: true });
    rmSync(lockPath, { recursive: true, force: true });
    logger?.warning(`${subject}: removed a stale lock because ${reason.why}`, { lock: lockPath, deadOwner: reason.owner });
    return true;
  } finally {
    rmSync(guard, { recursive: true, force: true });
  }
}

function writeOwner(lockPath: string, owner: LockOwner): void {
  const file = ownerPathFor(lockPath);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(owner), { mode: PRIVATE_FILE_MODE });
  renameSync(tmp, file);
}

/** proper-lockfile's file system, except that the lock folder it creates is 0700 (its own mkdir takes no mode). */
const PRIVATE_LOCK_FS = {
  ...fs,
  mkdir: (dir: string, done: (err: NodeJS.ErrnoException | null) => void) => fs.mkdir(dir, PRIVATE_DIR_MODE, done),
};

export async function acquireOwnedLock(options: OwnedLockOptions): Promise<HeldLock> {
  const { lockPath, role, logger } = options;
  const subject = options.subject ?? `lock ${path.basename(lockPath)}`;
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  const retryMs = options.retryMs ?? 50;
  const staleMs = Math.max(options.staleMs ?? 10_000, 2000);
  makePrivateDirSync(path.dirname(lockPath));

  let compromised = false;
  for (;;) {
    reclaimIfOwnerDead(lockPath, logger, subject);
    let releaseLock: (() => Promise<void>) | undefined;
    try {
      // proper-lockfile would take a lock whose mtime is older than `stale` from its live owner.
      if (heldByLiveOwner(lockPath)) throw Object.assign(new Error('held by a live owner'), { code: 'ELOCKED' });
      releaseLock = await lockfile.lock(lockPath, {
        lockfilePath: lockPath,
        realpath: false,
        fs: PRIVATE_LOCK_FS,
        retries: 0,
        stale: staleMs,
        update: Math.floor(staleMs / 2),
        onCompromised: (err: Error) => {
          compromised = true;
          logger?.error(`${subject} was compromised while held: stop using what it protects`, { lock: lockPath, err });
          options.onCompromised?.(err);
        },
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    }
    if (releaseLock !== undefined) {
      const me = selfRef();
      const owner: LockOwner = {
        pid: me.pid,
        startTime: me.startTime,
        role,
        hostname: os.hostname(),
        since: new Date().toISOString(),
        ...(options.config !== undefined ? { config: options.config } : {}),
      };
      writeOwner(lockPath, owner);
      const release = releaseLock;
      let released = false;
      return {
        lockPath,
        owner,
        get compromised() {
          return compromised;
        },
        async release() {
          if (released) return;
          released = true;
          const current = readLockOwner(lockPath);
          if (current !== undefined && current.pid === owner.pid && current.startTime === owner.startTime) {
            try {
              unlinkSync(ownerPathFor(lockPath));
            } catch {
              // already gone
            }
          }
          try {
            await release();
          } catch (err) {
            // ERELEASED/ENOTACQUIRED after a compromise: nothing is left to release.
            if (!compromised) throw err;
          }
        },
      };
    }
    if (Date.now() >= deadline) throw new LockHeldError(subject, lockPath, readLockOwner(lockPath));
    await sleep(retryMs);
  }
}
