/**
 * Time stamps inside file names (backups, corrupt copies): ISO 8601 in UTC with `:` replaced by
 * `-`, e.g. `2024-05-01T12-00-00.000Z`. Fixed width, so a plain listing sorts by time, and safe
 * on every file system (colons are not).
 */

const STAMP_PATTERN = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})Z$/;

/** The source text of a stamp pattern, for embedding in larger file-name patterns. */
export const FILE_STAMP_SOURCE = String.raw`\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z`;

export function fileStamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/:/g, '-');
}

/** The epoch milliseconds of a stamp made by `fileStamp`, or undefined if it is not one. */
export function parseFileStamp(stamp: string): number | undefined {
  const match = STAMP_PATTERN.exec(stamp);
  if (match === null) return undefined;
  const [, day, hours, minutes, seconds, millis] = match;
  const ms = Date.parse(`${day}T${hours}:${minutes}:${seconds}.${millis}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Escapes text for use inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
