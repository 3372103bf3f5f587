/**
 * Who may do what on the dashboard, decided from how the HTTP server is bound: read-only when it
 * listens beyond loopback with no bearer token (anyone who can reach it could act), and, when it
 * listens on loopback, only requests addressed to a loopback name (a DNS-rebinding page that
 * resolves its own name to 127.0.0.1 is same-origin to the browser, so the Host header is the
 * one thing that tells it apart). Pure functions; the routes enforce them.
 */
import { isIP } from 'node:net';

export interface AccessPolicy {
  readOnly: boolean;
  readOnlyReason: string | null;
  /** Only loopback Host names are answered (true when the server is bound to loopback). */
  loopbackHostsOnly: boolean;
}

/** True for `localhost`, 127.0.0.0/8 and ::1, with or without IPv6 brackets. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase() === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

export function accessPolicy(http: { host: string; authToken?: string | undefined }): AccessPolicy {
  const loopback = isLoopbackHost(http.host);
  const readOnly = !loopback && http.authToken === undefined;
  return {
    readOnly,
    readOnlyReason: readOnly ? `read-only: the supervisor listens on ${http.host}, beyond loopback, without a bearer token (http.authTokenEnv)` : null,
    loopbackHostsOnly: loopback,
  };
}

/** The host name of a Host header (`name:port`, `[v6]:port`), or undefined when it is missing or malformed. */
export function hostNameOf(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined || hostHeader === '') return undefined;
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return undefined;
  }
}
