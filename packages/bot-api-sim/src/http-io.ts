/**
 * Writing answers: an envelope as JSON with the HTTP status Telegram uses (200, or the error
 * code). A response whose client is gone is skipped quietly.
 */
import type { ServerResponse } from 'node:http';
import { ApiError, type Envelope } from './envelope.js';

export function writeJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}

export function writeEnvelope(res: ServerResponse, envelope: Envelope): void {
  writeJson(res, envelope.ok ? 200 : envelope.error_code, envelope);
}

export function writeError(res: ServerResponse, error: ApiError): void {
  writeEnvelope(res, error.toEnvelope());
}

export const internalError = (): ApiError => new ApiError(500, 'Internal Server Error');

/** decodeURIComponent that leaves a malformed escape as it is instead of throwing. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
