/**
 * Turns log metadata into plain JSON values: an `Error` becomes `{ name, message, code?, stack }`
 * (winston would print `{}`), cycles and BigInts cannot throw. Redaction happens later, on the line.
 */

export function serializeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.stack !== undefined) out.stack = err.stack;
  if (err.cause !== undefined) out.cause = toPlain(err.cause, new WeakSet());
  return out;
}

function toPlain(value: unknown, seen: WeakSet<object>): unknown {
  if (value instanceof Error) return serializeError(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => toPlain(v, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toPlain(v, seen);
  return out;
}

export function serializeMeta(meta: Record<string, unknown>): Record<string, unknown> {
  const seen = new WeakSet<object>();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) out[k] = toPlain(v, seen);
  return out;
}
