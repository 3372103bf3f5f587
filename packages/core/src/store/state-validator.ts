/**
 * How a store checks the data it loads against its shape: the schema when there is one, else only
 * "the same kind of JSON value as the defaults". Shared by the file store and the cluster's
 * PostgreSQL document store, so both call the same data corrupt for the same reason.
 */
import type { ZodType } from 'zod';
import type { StateValidator } from './recovery.js';

/** The first few schema issues, as one line a person can act on. */
export function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  const shown = issues.slice(0, 5).map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  return shown.join('; ') + (issues.length > 5 ? `; and ${issues.length - 5} more` : '');
}

/** Without a schema, the data must at least be the same kind of JSON value as the defaults (object or array). */
export function validatorFor<T extends object>(schema: ZodType<T> | undefined, defaults: () => T): StateValidator<T> {
  if (schema !== undefined) {
    return (raw) => {
      const result = schema.safeParse(raw);
      return result.success ? { ok: true, data: result.data } : { ok: false, reason: describeIssues(result.error.issues) };
    };
  }
  const wantArray = Array.isArray(defaults());
  return (raw) =>
    typeof raw === 'object' && raw !== null && Array.isArray(raw) === wantArray
      ? { ok: true, data: raw as T }
      : { ok: false, reason: `expected a JSON ${wantArray ? 'array' : 'object'}` };
}
