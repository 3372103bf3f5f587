/**
 * The sentence for an unknown key in botvisor.json: the nearest known key at that place
 * (`Unrecognized key "tokenFlie" — did you mean "tokenFile"?`), else the keys that are allowed.
 * Known keys come from the schema's own shapes, so they never drift from what is accepted.
 */
import { botSchema, commandSchema, configSchema, httpSchema, supervisorSchema } from './schema.js';

/** Which object a formatted path (as `formatPath` writes it) points at, and its keys. */
const KEYS_AT: ReadonlyArray<{ at: RegExp; keys: readonly string[] }> = [
  { at: /^\(top level\)$/, keys: Object.keys(configSchema.shape) },
  { at: /^bots\[\d+\]$/, keys: Object.keys(botSchema.shape) },
  { at: /^bots\[\d+\]\.commands\.[^.[]+$/, keys: Object.keys(commandSchema.shape) },
  { at: /^http$/, keys: Object.keys(httpSchema.shape) },
  { at: /^supervisor$/, keys: Object.keys(supervisorSchema.shape) },
];

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(x.length, y.length);
}

/** The known key closest to `key`, if it is close enough to be a typo (a third of its length, at least 1, at most 3 edits), else one it is the start of (`timeout` → `timeoutSec`). */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const allowed = Math.min(3, Math.max(1, Math.floor(key.length / 3)));
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key, candidate);
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  if (best !== undefined) return best.key;
  const lower = key.toLowerCase();
  return lower.length >= 4 ? known.find((k) => k.toLowerCase().startsWith(lower)) : undefined;
}

/** One sentence per unknown key at `path` (formatted): the suggestion, or the keys allowed there. */
export function unknownKeyMessage(path: string, keys: readonly string[]): string {
  const known = KEYS_AT.find((k) => k.at.test(path))?.keys;
  return keys
    .map((key) => {
      if (known === undefined) return `Unrecognized key "${key}"`;
      const near = nearestKey(key, known);
      return near !== undefined ? `Unrecognized key "${key}" — did you mean "${near}"?` : `Unrecognized key "${key}"; expected one of: ${known.join(', ')}`;
    })
    .join('; ');
}
