/**
 * Request parameters the way the Bot API takes them: query string, JSON, urlencoded or
 * multipart/form-data (busboy), merged into one record (body wins over query). Uploaded files are
 * streamed through a hash and counted, never kept: the sim records name, type and size only.
 * Values stay as they came (strings for forms); `params.ts` coerces them per field.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { type ApiError, badRequest, payloadTooLarge } from './envelope.js';

export interface UploadedFile {
  /** The form field the file came in (e.g. `document`). */
  field: string;
  fileName: string;
  mimeType: string;
  size: number;
  /** sha256 of the bytes, so the same content gets the same `file_unique_id`. */
  sha256: string;
}

export interface RequestParams {
  fields: Record<string, unknown>;
  files: Map<string, UploadedFile>;
}

/** The client hung up before its request body was complete: there is nobody to answer. */
export class ClientGone extends Error {
  constructor() {
    super('client closed the connection before the request body was complete');
    this.name = 'ClientGone';
  }
}

export interface BodyLimits {
  /** Largest JSON or urlencoded body. */
  maxFieldBytes: number;
  /** Largest single uploaded file (Telegram: 50 MB for bots). */
  maxFileBytes: number;
}

export const defaultBodyLimits: BodyLimits = { maxFieldBytes: 2 * 1024 * 1024, maxFileBytes: 50 * 1024 * 1024 };

export async function readRequestParams(req: IncomingMessage, query: URLSearchParams, limits: BodyLimits = defaultBodyLimits): Promise<RequestParams> {
  const fields: Record<string, unknown> = Object.fromEntries(query);
  const files = new Map<string, UploadedFile>();
  if (req.method === 'GET' || req.method === 'HEAD') return { fields, files };
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'multipart/form-data') {
    await readMultipart(req, limits, fields, files);
    return { fields, files };
  }
  const raw = await readRaw(req, limits.maxFieldBytes);
  if (raw.length === 0) return { fields, files };
  if (mediaType === 'application/json') Object.assign(fields, parseJsonObject(raw));
  else if (mediaType === 'application/x-www-form-urlencoded') Object.assign(fields, Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
  // Any other content type: Telegram ignores a body it cannot read, and so does the sim.
  return { fields, files };
}

function parseJsonObject(raw: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest("can't parse JSON encoded request body");
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('JSON request body must be an object');
  return parsed as Record<string, unknown>;
}

function readRaw(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        reject(payloadTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', () => reject(new ClientGone()));
    req.on('close', () => {
      if (!req.complete) reject(new ClientGone());
    });
  });
}

function readMultipart(req: IncomingMessage, limits: BodyLimits, fields: Record<string, unknown>, files: Map<string, UploadedFile>): Promise<void> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: limits.maxFileBytes, fieldSize: limits.maxFieldBytes } });
    } catch {
      reject(badRequest('multipart/form-data body has no boundary'));
      return;
    }
    let failure: ApiError | undefined;
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) failure ??= payloadTooLarge();
      fields[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      const hash = createHash('sha256');
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        hash.update(chunk);
      });
      stream.on('limit', () => {
        failure ??= payloadTooLarge();
      });
      stream.on('end', () => {
        files.set(field, { field, fileName: info.filename ?? field, mimeType: info.mimeType, size, sha256: hash.digest('hex') });
      });
    });
    parser.on('close', () => (failure === undefined ? resolve() : reject(failure)));
    parser.on('error', () => reject(badRequest('malformed multipart/form-data body')));
    req.on('error', () => reject(new ClientGone()));
    req.on('close', () => {
      if (!req.complete) reject(new ClientGone());
    });
    req.pipe(parser);
  });
}
