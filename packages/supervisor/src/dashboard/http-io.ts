/**
 * Small HTTP helpers for the dashboard's routes: JSON answers with the headers every API answer
 * carries, an error type that carries its status, and a bounded JSON body reader. No routing here.
 */
import type http from 'node:http';

/** A refusal with an HTTP status and a message meant for the person at the page. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    /** A machine-readable reason the page acts on (e.g. `csrf`: fetch a new session and retry). */
    readonly code?: string,
  ) {
    super(message);
  }
}

export const API_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...API_HEADERS, ...headers });
  res.end(JSON.stringify(body));
}

export function sendError(res: http.ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: err.message, ...(err.code !== undefined ? { code: err.code } : {}) });
}

/** Reads a JSON object body of at most `limitBytes`; demands `application/json` (a cross-site form cannot send that without a preflight). */
export async function readJsonBody(req: http.IncomingMessage, limitBytes = 16 * 1024): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'send the body as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new HttpError(413, `the body is larger than ${limitBytes} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}
