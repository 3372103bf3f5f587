/**
 * What kind of input a `fetch` got, told without touching the globals `Request` and `Headers`: in
 * Node 20 the first use of either loads undici, ~12 MB of RSS (issue 18), which a bot whose calls
 * all go through keepAliveFetch never needs. The input is `string | URL | Request`, so anything
 * else that is an object is a Request; a headers object with an `entries()` method is a Headers
 * (a plain record of header values has none).
 */

/** True for a `Request`: not a string, not a URL. */
export function isRequestInput(input: string | URL | Request): input is Request {
  return typeof input !== 'string' && !(input instanceof URL);
}

/** The URL of a fetch input, as a string. */
export function urlOf(input: string | URL | Request): string {
  return isRequestInput(input) ? input.url : String(input);
}

/** True for a `Headers` (or anything iterable the same way), false for a plain record or a list of pairs. */
export function isHeadersObject(headers: NonNullable<RequestInit['headers']>): headers is Headers {
  return !Array.isArray(headers) && typeof (headers as { entries?: unknown }).entries === 'function';
}
