/**
 * A `fetch` for node-telegram-bot-api's transport over `node:http`/`node:https` with one keep-alive
 * agent: the Bot API's small form posts without the global fetch's per-request machinery.
 *
 * Why: profiled under load (BENCHMARKS.md, "Profile"), the global fetch (undici's Request, Headers,
 * web streams and abort plumbing per call) was over half of the bot's busy CPU. The client reads only
 * `status` and `text()` of what its fetch returns (transport.js in node-telegram-bot-api v2), so the
 * answer here is a small `TextResponse` with the body already read, not a web-streams `Response`.
 * Bodies other than a string or `URLSearchParams` (multipart uploads: streams, blobs) go to
 * `fallback` (the global fetch), which handles them as before.
 *
 * `timeoutMs` is the whole call's deadline as one plain timer, so the client can be built with
 * `timeoutMs: 0`: its own deadline is an `AbortSignal.timeout` plus a combining `AbortController`
 * per call, the largest per-send cost left in a profile (BENCHMARKS.md, issue 18, "latency pass").
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isHeadersObject, isRequestInput } from './fetch-input.js';

/** What the client reads of a response, with the body already in memory. */
export interface TextResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export type TextFetch = (input: string | URL | Request, init?: RequestInit) => Promise<TextResponse>;

export interface KeepAliveFetchOptions {
  /** Sockets kept per host; a bot talks to one. Default 16 (a burst of replies plus the poll). */
  maxSockets?: number;
  /** For bodies this transport does not send itself. Default: the global fetch. */
  fallback?: typeof fetch;
  /**
   * The deadline of one call, from send to the end of the body; past it the call fails with a
   * `TimeoutError` as `AbortSignal.timeout` reports it (the client raises its TimeoutError).
   * Default none: the caller's signal is the only limit.
   */
  timeoutMs?: number;
}

export function textResponse(status: number, statusText: string, headers: { get(name: string): string | null }, body: string): TextResponse {
  return {
    status,
    statusText,
    ok: status >= 200 && status < 300,
    headers,
    text: () => Promise.resolve(body),
    json: () => Promise.resolve(JSON.parse(body) as unknown),
  };
}

/** An abort as fetch reports it: the signal's reason when it is an error (AbortSignal.timeout's TimeoutError), else an AbortError. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}

function headerOf(res: IncomingMessage): { get(name: string): string | null } {
  return {
    get: (name) => {
      const value = res.headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

function bodyText(body: RequestInit['body']): string | undefined {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  return undefined;
}

/** As `AbortSignal.timeout`'s reason reads, so the client classifies it the same way. */
function timeoutReason(): Error {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/** What `http.request` needs of a URL, parsed once per distinct URL (a bot calls a handful of method URLs). */
interface Target {
  secure: boolean;
  options: { protocol: string; hostname: string; port?: number; path: string; auth?: string };
}

/** Past this many distinct URLs the cache starts over: bounded memory whatever the caller passes. */
const MAX_TARGETS = 256;

function targetOf(cache: Map<string, Target>, input: string | URL): Target {
  const key = typeof input === 'string' ? input : input.href;
  let target = cache.get(key);
  if (target !== undefined) return target;
  const url = typeof input === 'string' ? new URL(input) : input;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const auth = url.username !== '' || url.password !== '' ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
  target = { secure: url.protocol === 'https:', options: { protocol: url.protocol, hostname, ...(url.port !== '' ? { port: Number(url.port) } : {}), path: `${url.pathname}${url.search}`, ...(auth !== undefined ? { auth } : {}) } };
  if (cache.size >= MAX_TARGETS) cache.clear();
  cache.set(key, target);
  return target;
}

function headerRecord(headers: RequestInit['headers']): OutgoingHttpHeaders {
  if (headers === undefined) return {};
  if (isHeadersObject(headers)) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers);
  const record: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name] as string | readonly string[];
    record[name] = typeof value === 'string' ? value : [...value];
  }
  return record;
}

/** How long a kept-alive socket may sit unused before it is closed (Node's agent applies `timeout` to free sockets). */
export const FREE_SOCKET_IDLE_MS = 4000;

export function keepAliveFetch(options: KeepAliveFetchOptions = {}): TextFetch {
  const maxSockets = options.maxSockets ?? 16;
  const fallback = options.fallback ?? globalThis.fetch;
  // An idle socket is closed after FREE_SOCKET_IDLE_MS (undici's keepAliveTimeout): reusing one the
  // server has just closed fails a call that never reached it, and a send is not blindly repeated.
  const agentOptions = { keepAlive: true, maxSockets, timeout: FREE_SOCKET_IDLE_MS };
  const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
  const targets = new Map<string, Target>();
  const timeoutMs = options.timeoutMs !== undefined && options.timeoutMs > 0 ? options.timeoutMs : undefined;
  return (input, init = {}) => {
    const body = bodyText(init.body);
    if (body === undefined || isRequestInput(input)) {
      if (timeoutMs === undefined) return fallback(input, init);
      const deadline = AbortSignal.timeout(timeoutMs);
      return fallback(input, { ...init, signal: init.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
    }
    const { secure, options: target } = targetOf(targets, input);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<TextResponse>((resolve, reject) => {
      const headers = headerRecord(init.headers);
      headers['content-length'] = String(Buffer.byteLength(body));
      const request = (secure ? httpsRequest : httpRequest)({ ...target, method: init.method ?? 'GET', headers, agent: secure ? agents.https : agents.http });
      const onAbort = (): void => {
        request.destroy(abortReason(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let timedOut = false;
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              request.destroy(timeoutReason());
            }, timeoutMs);
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(signal?.aborted ? abortReason(signal) : timedOut ? timeoutReason() : error);
      };
      request.once('error', fail);
      request.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', fail);
        res.once('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(textResponse(res.statusCode ?? 0, res.statusMessage ?? '', headerOf(res), Buffer.concat(chunks).toString('utf8')));
        });
        // A connection cut mid-body: 'close' without 'end' is a failed read, as fetch's text() would report it.
        res.once('close', () => fail(new Error('the connection closed before the response body ended')));
      });
      request.end(body);
    });
  };
}
