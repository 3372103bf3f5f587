/**
 * Small formatting helpers for people: durations, byte sizes, and a plain aligned table.
 */

/** Two units at most, seconds shown under an hour: `42s`, `3m 07s`, `5h 02m`, `3d 04h`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const two = (n: number): string => String(n).padStart(2, '0');
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${two(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${two(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${two(h % 24)}h`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1024) return `${n}b`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}kb`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)}mb`;
  return `${(n / 1024 ** 3).toFixed(2)}gb`;
}

/** Left-aligned columns separated by two spaces; the header row is the first row. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}
