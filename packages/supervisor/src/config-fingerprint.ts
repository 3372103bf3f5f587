/**
 * The fingerprint of a config file: sha256 of its bytes. The supervisor records the one it started
 * with (`status --json`: `supervisor.configHash`); the CLI compares it with the file as it is now,
 * to say when the running fleet uses an older config than the file.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The hex sha256 of the file's bytes, or null when it cannot be read. */
export function configFingerprint(file: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}
