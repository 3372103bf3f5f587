/**
 * Proof that a dashboard request comes from the Unix user who runs botvisor, for a dashboard on
 * loopback without a bearer token — where every local user can reach the port, so reaching it
 * proves nothing. The proof starts on the control socket, which only the owner can open (0600):
 * `botvisor dashboard` asks it for a one-time login code, the browser opens `/login?code=…` once,
 * and gets an owner cookie (HttpOnly, SameSite=Strict) signed with a secret that lives only in
 * this process. A code is good for one use within CODE_TTL_MS; a supervisor restart ends every
 * owner session.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

/** How long a login code may wait to be opened. */
export const CODE_TTL_MS = 10 * 60_000;
/** Codes waiting at once; minting more drops the oldest (the map never grows past this). */
const MAX_PENDING_CODES = 32;

export class OwnerAccess {
  private readonly secret = randomBytes(32);
  private readonly pending = new Map<string, number>();

  /** `required`: actions need the owner cookie (loopback, no bearer token). */
  constructor(
    readonly required: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new one-time login code (for the control socket's `dashboard-login`). */
  mint(): string {
    const code = randomBytes(24).toString('base64url');
    this.pending.set(code, this.now() + CODE_TTL_MS);
    for (const [old] of this.pending) {
      if (this.pending.size <= MAX_PENDING_CODES) break;
      this.pending.delete(old);
    }
    return code;
  }

  /** Spends `code`; on success, the Set-Cookie header that makes this browser the owner's. */
  redeem(code: string, req: http.IncomingMessage): string | undefined {
    const expires = this.pending.get(code);
    this.pending.delete(code);
    if (expires === undefined || expires < this.now()) return undefined;
    const id = randomBytes(24).toString('base64url');
    return `${this.cookieName(req)}=${id}.${this.sign(id)}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** True when actions need no proof here, or the request carries a valid owner cookie. */
  allows(req: http.IncomingMessage): boolean {
    if (!this.required) return true;
    const name = this.cookieName(req);
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
      const [id, mac] = part.slice(eq + 1).trim().split('.');
      if (id === undefined || mac === undefined) return false;
      const expected = Buffer.from(this.sign(id));
      const given = Buffer.from(mac);
      return given.length === expected.length && timingSafeEqual(given, expected);
    }
    return false;
  }

  private sign(id: string): string {
    return createHmac('sha256', this.secret).update(`owner:${id}`).digest('base64url');
  }

  /** Per port, like the session cookie: cookies ignore ports, two supervisors on one host must not mix. */
  private cookieName(req: http.IncomingMessage): string {
    const port = /:(\d+)$/.exec(req.headers.host ?? '')?.[1] ?? 'default';
    return `botvisor_owner_${port}`;
  }
}

/** What the page says when actions are off for want of the owner's proof. */
export const OWNER_ONLY_REASON = 'read-only for this browser: on this machine only the owner may act; run `botvisor dashboard` and open the link it prints';
