/**
 * The keep-alive `node:http` transport the bot's Api uses: one socket reused across calls, aborts
 * and timeouts reported as fetch reports them (so the client raises its TimeoutError), a connection
 * cut mid-body is a failed call, and multipart bodies go to the fallback fetch.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Api, TimeoutError } from 'node-telegram-bot-api';
import { guardEnvelope } from '../src/telegram/envelope-guard.js';
import { FREE_SOCKET_IDLE_MS, keepAliveFetch } from '../src/telegram/keep-alive-fetch.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('keep-alive fetch for the Bot API', () => {
  let server: Server;
  let root: string;
  let handler: Handler;
  const sockets = new Set<unknown>();
  beforeEach(async () => {
    sockets.clear();
    server = createServer((req, res) => {
      sockets.add(req.socket);
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => handler(req, body, res));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('posts the form, returns status and text, and reuses one socket for calls in sequence', async () => {
    const seen: string[] = [];
    handler = (req, body, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['content-type']} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":{"message_id":7}}');
    };
    const api = new Api('123:abc', { apiRoot: root, maxRetries: 0, fetch: guardEnvelope(keepAliveFetch()) });
    const first = await api.sendMessage({ chat_id: 5, text: 'héllo' });
    await api.sendMessage({ chat_id: 5, text: 'again' });
    expect(first).to.deep.equal({ message_id: 7 });
    expect(seen[0]).to.equal('POST /bot123:abc/sendMessage application/x-www-form-urlencoded chat_id=5&text=h%C3%A9llo');
    expect(sockets.size).to.equal(1);
  });

  it('a long poll that stays silent past the idle limit still gets its answer; a socket left idle past it is closed, and the next call opens a new one', async function () {
    this.timeout(20_000);
    server.keepAliveTimeout = 60_000; // the server would keep the socket: closing it is ours to do
    handler = (_req, _body, res) => void setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":[]}'), FREE_SOCKET_IDLE_MS + 1500);
    const api = new Api('123:abc', { apiRoot: root, maxRetries: 0, timeoutMs: 15_000, fetch: guardEnvelope(keepAliveFetch()) });
    expect(await api.getUpdates({ timeout: 5 })).to.deep.equal([]);
    await new Promise((r) => setTimeout(r, FREE_SOCKET_IDLE_MS + 1500));
    handler = (_req, _body, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":[]}');
    expect(await api.getUpdates({ timeout: 0 })).to.deep.equal([]);
    expect(sockets.size, 'the idle socket was closed before the second call').to.equal(2);
  });

  it("a request timing out rejects as fetch's TimeoutError, so the client raises its TimeoutError", async () => {
    handler = () => undefined; // never answers
    const api = new Api('123:abc', { apiRoot: root, maxRetries: 0, timeoutMs: 100, fetch: guardEnvelope(keepAliveFetch()) });
    const err = await api.getMe().then(
      () => expect.fail('getMe should time out'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(TimeoutError);
  });

  it("its own deadline (`timeoutMs`, the client's off) fails a silent call as the client's TimeoutError, and an answered call is not cut later", async () => {
    let answer = false;
    handler = (_req, _body, res) => {
      if (answer) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":{"id":1}}');
    };
    const api = new Api('123:abc', { apiRoot: root, maxRetries: 0, timeoutMs: 0, fetch: guardEnvelope(keepAliveFetch({ timeoutMs: 150 })) });
    const started = performance.now();
    const err = await api.getMe().then(
      () => expect.fail('getMe should time out'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(TimeoutError);
    expect(performance.now() - started).to.be.within(100, 2000);
    answer = true;
    expect(await api.getMe()).to.deep.equal({ id: 1 });
    await new Promise((r) => setTimeout(r, 250)); // past the deadline: the kept-alive socket is still fine
    expect(await api.getMe()).to.deep.equal({ id: 1 });
  });

  it('a body it sends through the fallback gets the deadline too', async () => {
    let seen: AbortSignal | undefined;
    const fallback = ((_input: unknown, init?: RequestInit) => {
      seen = init?.signal ?? undefined;
      return new Promise<Response>((_resolve, reject) => seen?.addEventListener('abort', () => reject(seen?.reason)));
    }) as typeof fetch;
    const err = (await keepAliveFetch({ fallback, timeoutMs: 100 })(`${root}/x`, { method: 'POST', body: new Blob(['x']) }).then(
      () => expect.fail('should time out'),
      (e: unknown) => e,
    )) as Error;
    expect(err.name).to.equal('TimeoutError');
  });

  it("a caller's abort rejects with the abort, and an already aborted signal sends nothing", async () => {
    handler = () => undefined;
    const fetchImpl = keepAliveFetch();
    const controller = new AbortController();
    const call = fetchImpl(`${root}/x`, { method: 'POST', body: 'a=1', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const err = (await call.then(() => expect.fail('should abort'), (e: unknown) => e)) as Error;
    expect(err.name).to.equal('AbortError');
    const before = sockets.size;
    const again = (await fetchImpl(`${root}/x`, { method: 'POST', body: 'a=1', signal: controller.signal }).then(
      () => expect.fail('should abort'),
      (e: unknown) => e,
    )) as Error;
    expect(again.name).to.equal('AbortError');
    expect(sockets.size).to.equal(before);
  });

  it('a connection cut in the middle of the body is a failed call, not a short answer', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"ok":true,');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const err = await keepAliveFetch()(`${root}/x`, { method: 'POST', body: '' }).then(
      () => expect.fail('should fail'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error);
  });

  it('a body it does not send itself (a multipart stream, a blob) goes to the fallback fetch', async () => {
    const calls: unknown[] = [];
    const fallback = (async (_input: unknown, init?: RequestInit) => {
      calls.push(init?.body);
      return new Response('{"ok":true,"result":true}');
    }) as typeof fetch;
    const blob = new Blob(['x']);
    const answer = await keepAliveFetch({ fallback })(`${root}/x`, { method: 'POST', body: blob });
    expect(await answer.text()).to.equal('{"ok":true,"result":true}');
    expect(calls).to.deep.equal([blob]);
  });
});
