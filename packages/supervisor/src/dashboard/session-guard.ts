/**
 * Cross-site protection for the dashboard's state-changing requests. Two independent checks:
 *
 * 1. Same origin: `Origin` (or, when a browser leaves it out, the origin of `Referer`) must be
 *    this server as the browser addressed it (`http(s)://<Host>`).
 * 2. A per-session token: `GET /api/session` gives the browser a random session id in an HttpOnly
 *    SameSite=Strict cookie and answers with a token derived from it (HMAC with a secret that
 *    lives only in this process); every POST must send that token in `x-botvisor-csrf`. Another
 *    site can neither read the token nor make the browser send the cookie.
 *
 * Stateless (nothing stored per session), so it cannot grow; a supervisor restart makes every
 * token stale and the page simply asks for a new session.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { HttpError } from './http-io.js';

export const CSRF_HEADER = 'x-botvisor-csrf';
const SESSION_ID = /^[A-Za-z0-9_-]{24,64}$/;

export class SessionGuard {
  private readonly secret = randomBytes(32);

  /** The cookie name carries the port the browser used: cookies ignore ports, two supervisors on one host must not overwrite each other's. */
  private cookieName(req: http.IncomingMessage): string {
    const port = /:(\d+)$/.exec(req.headers.host ?? '')?.[1] ?? 'default';
    return `botvisor_session_${port}`;
  }

  private tokenFor(sessionId: string): string {
    return createHmac('sha256', this.secret).update(sessionId).digest('base64url');
  }

  private sessionIdOf(req: http.IncomingMessage): string | undefined {
    const name = this.cookieName(req);
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
      const value = part.slice(eq + 1).trim();
      return SESSION_ID.test(value) ? value : undefined;
    }
    return undefined;
  }

  /** The token for this browser's session, starting a session (a Set-Cookie header to send) when it has none. */
  issue(req: http.IncomingMessage): { token: string; setCookie: string | undefined } {
    const existing = this.sessionIdOf(req);
    if (existing !== undefined) return { token: this.tokenFor(existing), setCookie: undefined };
    const id = randomBytes(24).toString('base64url');
    return { token: this.tokenFor(id), setCookie: `${this.cookieName(req)}=${id}; Path=/; HttpOnly; SameSite=Strict` };
  }

  /** Throws a 403 HttpError unless the request is same-origin and carries its session's token. */
  check(req: http.IncomingMessage): void {
    checkSameOrigin(req);
    const id = this.sessionIdOf(req);
    const given = req.headers[CSRF_HEADER];
    if (id === undefined || typeof given !== 'string' || given === '') {
      throw new HttpError(403, `refused: a dashboard action needs the page's session token (${CSRF_HEADER}); reload the page`, 'csrf');
    }
    const expected = Buffer.from(this.tokenFor(id));
    const actual = Buffer.from(given);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      throw new HttpError(403, `refused: the session token (${CSRF_HEADER}) does not match this session; reload the page`, 'csrf');
    }
  }
}

/** `Origin`, else the origin of `Referer`, must be this server as addressed by the Host header. */
export function checkSameOrigin(req: http.IncomingMessage): void {
  const host = req.headers.host;
  if (host === undefined || host === '') throw new HttpError(403, 'refused: the request has no Host header', 'origin');
  let origin = req.headers.origin;
  if (origin === undefined || origin === '') {
    const referer = req.headers.referer;
    if (referer === undefined || referer === '') throw new HttpError(403, 'refused: a dashboard action must come from the dashboard page (no Origin or Referer header)', 'origin');
    try {
      origin = new URL(referer).origin;
    } catch {
      throw new HttpError(403, 'refused: the Referer header is not a URL', 'origin');
    }
  }
  const allowed = [`http://${host}`, `https://${host}`].map((o) => o.toLowerCase());
  if (!allowed.includes(origin.toLowerCase())) {
    throw new HttpError(403, `refused: cross-site request from ${origin}, not from this dashboard (http://${host})`, 'origin');
  }
}
