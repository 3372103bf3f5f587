/**
 * The file modes of everything botvisor writes for itself: state, backups, logs, locks, job
 * spools. Files are 0600 and folders 0700 — they hold users' arguments, pending message text and
 * logs, which are no business of other local users. The mode is given when the file or folder is
 * created, so there is no window where it is wider; the umask can only narrow it, never widen it.
 */
import { mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';

/** Owner read and write, nobody else anything. */
export const PRIVATE_FILE_MODE = 0o600;
/** Owner only. */
export const PRIVATE_DIR_MODE = 0o700;

/** Creates `dir` and any missing parents, each 0700. A folder that already exists keeps its mode. */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** `makePrivateDir` for the few callers that must not await (constructors, start-up). */
export function makePrivateDirSync(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}
