/**
 * Where the polling locks live: one directory per user for the whole machine, so that two
 * installations (two folders, a test copy beside production) that poll one token find each
 * other's lock: `/tmp/botvisor-<uid>/locks`. Not `$XDG_RUNTIME_DIR`: a systemd service has none
 * while the operator's login shell has one, so the production fleet and a test copy started from
 * a shell would each lock in their own folder and both poll. A config's `locksDir` overrides it.
 *
 * A lock directory that someone else can write to is not a lock: anyone could delete our lock or
 * forge an owner record. So before use the directory is created 0700 and checked: the lock
 * directory itself owned by us and writable by no one else, and every directory above it owned
 * by us or root and not writable by others unless sticky (as /tmp is) — the rule ssh applies to
 * `~/.ssh`. The classic attack is another user creating `/tmp/botvisor-<uid>` first.
 */
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';

export class UnsafeLocksDirError extends Error {
  override readonly name = 'UnsafeLocksDirError';
}

function currentUid(): number {
  return process.getuid?.() ?? 0;
}

/**
 * The machine-wide lock directory of the user running this process. `/tmp` literally, not
 * `os.tmpdir()`: `$TMPDIR` may differ between two shells of one user, and the point is that every
 * installation of the user finds the same directory.
 */
export function defaultLocksDir(uid: number = currentUid()): string {
  return path.join('/tmp', `botvisor-${uid}`, 'locks');
}

const GROUP_OR_WORLD_WRITABLE = 0o022;
const STICKY = 0o1000;

/** Why `dir` (an existing path) may not hold or lead to locks, or undefined if it may. */
function unsafeBecause(dir: string, leaf: boolean, uid: number): string | undefined {
  const st = lstatSync(dir);
  if (!st.isDirectory()) return 'it is not a directory';
  if (leaf) {
    if (st.uid !== uid) return `it is owned by uid ${st.uid}, not by us (uid ${uid})`;
    if ((st.mode & GROUP_OR_WORLD_WRITABLE) !== 0) return `others can write to it (mode ${(st.mode & 0o7777).toString(8)})`;
    return undefined;
  }
  if (st.uid !== uid && st.uid !== 0) return `it is owned by uid ${st.uid}, neither us (uid ${uid}) nor root`;
  if ((st.mode & GROUP_OR_WORLD_WRITABLE) !== 0 && (st.mode & STICKY) === 0) return `others can write to it (mode ${(st.mode & 0o7777).toString(8)})`;
  return undefined;
}

/**
 * Creates the lock directory (0700, with any missing parents 0700) and checks it is ours alone;
 * throws UnsafeLocksDirError naming the directory and what is wrong with it.
 */
export function ensureLocksDir(dir: string, uid: number = currentUid()): void {
  const absolute = path.resolve(dir);
  mkdirSync(absolute, { recursive: true, mode: 0o700 });
  // A link in place of the lock directory could be swapped under us; links above it are followed.
  if (lstatSync(absolute).isSymbolicLink()) throw new UnsafeLocksDirError(`refusing to keep polling locks in ${absolute}: it is a symbolic link; set "locksDir" to the real directory`);
  const real = realpathSync(absolute);
  let current = real;
  for (;;) {
    const why = unsafeBecause(current, current === real, uid);
    if (why !== undefined) {
      throw new UnsafeLocksDirError(`refusing to keep polling locks in ${absolute}: ${current} is unsafe because ${why}; fix its owner or mode, or set "locksDir" in the config`);
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}
