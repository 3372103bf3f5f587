/**
 * Fault injection: "the next K calls of this method (on this bot) fail with this code and
 * description / are held for N ms / lose their connection / get a body that is not Telegram's". Faults are consumed in the order they
 * were added; one call consumes at most one fault. Applying a fault is the HTTP layer's job; this
 * file only decides which fault a call gets.
 */
import { ApiError } from './envelope.js';
import { FOREIGN_BODIES, type ForeignAnswer } from './foreign-answer.js';

export interface FaultSpec {
  /** Bot API method name (case-insensitive), or `*` for every method. */
  method: string;
  /** Only calls with this token; omit for every bot. */
  token?: string;
  /** How many matching calls the fault affects; default 1. */
  times?: number;
  /** Hold the call this long before going on (with `fail`, `drop`, or the method itself). */
  delayMs?: number;
  /** Answer with this error instead of running the method. */
  fail?: { error_code: number; description: string; retry_after?: number };
  /** Destroy the connection without answering. */
  drop?: boolean;
  /** Answer with this HTTP status and a body that is not Telegram's envelope (see foreign-answer.ts). */
  foreign?: ForeignAnswer;
}

export interface Fault extends FaultSpec {
  id: number;
  /** Calls still to be affected. */
  remaining: number;
}

function invalid(detail: string): ApiError {
  return new ApiError(400, `Bad Request: invalid fault: ${detail}`);
}

export function validateFault(spec: FaultSpec): void {
  if (typeof spec.method !== 'string' || spec.method === '') throw invalid('method is required (a method name or "*")');
  if (spec.token !== undefined && typeof spec.token !== 'string') throw invalid('token must be a string');
  if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times >= 1)) throw invalid('times must be a positive integer');
  if (spec.delayMs !== undefined && !(typeof spec.delayMs === 'number' && spec.delayMs >= 0)) throw invalid('delayMs must be a number >= 0');
  if (spec.fail !== undefined) {
    const { error_code, description, retry_after } = spec.fail;
    if (!(Number.isInteger(error_code) && error_code >= 400 && error_code <= 599)) throw invalid('fail.error_code must be an HTTP error status (400-599)');
    if (typeof description !== 'string' || description === '') throw invalid('fail.description is required');
    if (retry_after !== undefined && !(Number.isInteger(retry_after) && retry_after >= 0)) throw invalid('fail.retry_after must be an integer >= 0');
  }
  if (spec.drop !== undefined && typeof spec.drop !== 'boolean') throw invalid('drop must be a boolean');
  if (spec.foreign !== undefined) {
    const { status, body } = spec.foreign;
    if (!(Number.isInteger(status) && status >= 200 && status <= 599)) throw invalid('foreign.status must be an HTTP status (200-599)');
    if (!FOREIGN_BODIES.includes(body)) throw invalid(`foreign.body must be one of ${FOREIGN_BODIES.join(', ')}`);
  }
  if (spec.fail === undefined && spec.drop !== true && spec.delayMs === undefined && spec.foreign === undefined) throw invalid('give at least one of fail, drop, foreign, delayMs');
  if ([spec.fail !== undefined, spec.drop === true, spec.foreign !== undefined].filter(Boolean).length > 1) throw invalid('fail, drop and foreign exclude each other');
}

/** The error a `fail` fault answers with. */
export function faultError(fail: NonNullable<FaultSpec['fail']>): ApiError {
  return new ApiError(fail.error_code, fail.description, fail.retry_after === undefined ? undefined : { retry_after: fail.retry_after });
}

export class FaultInjector {
  private faults: Fault[] = [];
  private lastId = 0;

  add(spec: FaultSpec): Fault {
    validateFault(spec);
    const fault: Fault = { ...spec, id: ++this.lastId, remaining: spec.times ?? 1 };
    this.faults.push(fault);
    return { ...fault };
  }

  list(): Fault[] {
    return this.faults.map((fault) => ({ ...fault }));
  }

  clear(): void {
    this.faults = [];
  }

  /** The fault this call gets, if any; it is used up by this call. */
  take(token: string, method: string): Fault | undefined {
    if (this.faults.length === 0) return undefined; // the common case, kept cheap
    const name = method.toLowerCase();
    const index = this.faults.findIndex((f) => (f.method === '*' || f.method.toLowerCase() === name) && (f.token === undefined || f.token === token));
    if (index === -1) return undefined;
    const fault = this.faults[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return { ...fault };
  }
}
