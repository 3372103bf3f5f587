/**
 * Answers that are not Telegram's envelope, for the `foreign` fault: what a bot meets when
 * something else stands where the Bot API should — a reverse proxy's HTML error page, another
 * program's JSON (telegram-test-api answers an unknown method with a 500 and `{"message": …}`),
 * or an empty body. Only the bytes are chosen here; the HTTP layer decides when to send them.
 */
import { type ServerResponse, STATUS_CODES } from 'node:http';

export const FOREIGN_BODIES = ['html', 'json', 'empty'] as const;
export type ForeignBody = (typeof FOREIGN_BODIES)[number];

export interface ForeignAnswer {
  /** The HTTP status, 200-599: a proxy may well say 200 with an HTML page. */
  status: number;
  body: ForeignBody;
}

/** The bytes and content type of a foreign answer to `method`. */
export function foreignPayload(answer: ForeignAnswer, method: string): { contentType: string | undefined; payload: string } {
  const reason = `${answer.status} ${STATUS_CODES[answer.status] ?? 'Unknown'}`;
  switch (answer.body) {
    case 'html':
      return { contentType: 'text/html', payload: `<html>\r\n<head><title>${reason}</title></head>\r\n<body>\r\n<center><h1>${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n` };
    case 'json':
      return { contentType: 'application/json', payload: JSON.stringify({ message: `API method '${method}' is not supported.` }) };
    case 'empty':
      return { contentType: undefined, payload: '' };
  }
}

export function writeForeignAnswer(res: ServerResponse, answer: ForeignAnswer, method: string): void {
  if (res.writableEnded || res.destroyed) return;
  const { contentType, payload } = foreignPayload(answer, method);
  res.writeHead(answer.status, { ...(contentType !== undefined ? { 'Content-Type': contentType } : {}), 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}
