/**
 * The web dashboard's routes, mounted on the supervisor's HTTP server through `extraRoutes`
 * (which has already enforced the bearer token, when one is configured):
 *
 *   GET  /, /assets/dashboard.{css,js}       the page (static files, no build step)
 *   GET  /login?code=…                        spends a one-time owner code, sets the owner cookie, → /
 *   GET  /api/session                         CSRF token + mode; sets the session cookie
 *   GET  /api/state                           the fleet snapshot (JSON)
 *   GET  /api/stream                          the same snapshot as server-sent `state` events
 *   GET  /api/history                         the last hour of each bot (charts; history/bot-history.ts)
 *   GET  /api/bots/:bot/log?lines=N           the tail of the bot's log
 *   POST /api/bots/:bot/restart               restart a bot (answers once it is ready again)
 *   POST /api/bots/:bot/stop                  stop a bot (it stays stopped)
 *   POST /api/bots/:bot/start                 start a stopped bot (answers once it is ready)
 *   POST /api/bots/:bot/children/:pid/stop    tree-kill one of the bot's CLI children
 *   GET  /api/chat?after&userAfter&waitMs     sandbox chat, long-polled
 *   POST /api/chat { text }                   say something to the sandbox bot as the sim user
 *   POST /api/chat/tap { messageId, data }    tap an inline button under a bot message
 *
 * Every route first checks the Host (see access-policy.ts); every POST is refused in read-only
 * mode and without same-origin plus the session token (session-guard.ts); on loopback without a
 * bearer token, actions and logs also need the owner's cookie (owner-access.ts). This file routes and
 * wires; each concern lives in its own module. The chat routes speak to the sandbox only through
 * the `SandboxChatPort` it was given (sandbox-chat-port.ts).
 */
import type http from 'node:http';
import { type Logger, type ProcessInfo, redact, snapshotProcesses } from '@botvisor/core';
import type { EventStream } from '../events.js';
import type { HistorySnapshot } from '../history/bot-history.js';
import type { TrackedProcess } from '../registry.js';
import type { StatusReport } from '../status.js';
import { type AccessPolicy, accessPolicy, hostNameOf, isLoopbackHost } from './access-policy.js';
import type { ChatSent, DashboardSession, DashboardState, SandboxInfo } from './dashboard-types.js';
import { snapshotFleet } from './fleet-snapshot.js';
import { HttpError, readJsonBody, sendError, sendJson } from './http-io.js';
import { readLogTail } from './log-tail.js';
import { OWNER_ONLY_REASON, OwnerAccess } from './owner-access.js';
import type { SandboxChatPort } from './sandbox-chat-port.js';
import { SessionGuard } from './session-guard.js';
import { StateStream } from './state-stream.js';
import { StaticAssets } from './static-assets.js';
import { type KillTreeFn, stopChild } from './stop-child.js';

/** What the dashboard needs from the supervisor. */
export interface DashboardFleet {
  status(): Promise<StatusReport>;
  events: Pick<EventStream, 'recent' | 'subscribe'>;
  /** Resolves once the bot is ready again; rejects saying why not. */
  restart(bot: string): Promise<void>;
  /** Stops one bot; resolves once it has stopped. */
  stopBot(bot: string): Promise<void>;
  /** Starts one stopped bot; resolves once it is ready, rejects saying why not. */
  startBot(bot: string): Promise<void>;
  /** Tells the bot that the operator is stopping its child `pid` (its job then reads "stopped by the operator"). */
  operatorStop?(bot: string, pid: number): void;
  /** The bots' last hour, for the charts; undefined when nothing samples it. */
  history?(): HistorySnapshot;
  /** The CLI children tracked for a bot, with start times; undefined for an unknown bot. */
  children(bot: string): readonly TrackedProcess[] | undefined;
}

export interface DashboardOptions {
  fleet: DashboardFleet;
  /** The configured bots (the sandbox's bot is found by its token's hash). */
  bots: ReadonlyArray<{ name: string; tokenHash: string; polling: boolean }>;
  /** How the HTTP server is bound: decides read-only mode and which Host names are answered. */
  http: { host: string; authToken?: string | undefined };
  logDir: string;
  /** Sandbox mode: the chat panel talks to the sandbox's bot through this. */
  sandbox?: SandboxChatPort | undefined;
  logger: Logger;
  /** How often the stream pushes a snapshot (default 1000 ms). */
  streamIntervalMs?: number;
  /** Seams for tests. */
  processTable?: () => ProcessInfo[];
  killTree?: KillTreeFn;
}

const MAX_LOG_LINES = 500;
/** The longest a chat page is held waiting for news. */
const MAX_CHAT_WAIT_MS = 25_000;
/** Telegram's limit on a message's text. */
const MAX_MESSAGE_LENGTH = 4096;

export class Dashboard {
  readonly policy: AccessPolicy;
  /** Who may act when reaching the port proves nothing (loopback, no bearer token). */
  readonly owner: OwnerAccess;
  private readonly guard = new SessionGuard();
  private readonly assets = new StaticAssets();
  private readonly stream: StateStream;
  private readonly chat: SandboxChatPort | undefined;
  private readonly sandboxInfo: SandboxInfo | null;

  constructor(private readonly o: DashboardOptions) {
    this.policy = accessPolicy(o.http);
    this.owner = new OwnerAccess(this.policy.loopbackHostsOnly && o.http.authToken === undefined);
    this.chat = o.sandbox;
    this.sandboxInfo = o.sandbox === undefined ? null : sandboxInfoOf(o.sandbox, o.bots);
    this.stream = new StateStream({
      snapshot: () => this.snapshot(),
      onFleetEvent: (listener) => o.fleet.events.subscribe(() => listener()),
      intervalMs: o.streamIntervalMs ?? 1000,
      logger: o.logger,
    });
  }

  /** Browsers connected to the live stream (for tests and logs). */
  get streamClients(): number {
    return this.stream.clientCount;
  }

  snapshot(): Promise<DashboardState> {
    return snapshotFleet(
      { status: () => this.o.fleet.status(), recentEvents: () => this.o.fleet.events.recent(), processTable: this.o.processTable ?? snapshotProcesses },
      { readOnly: this.policy.readOnly, sandbox: this.chat !== undefined },
    );
  }

  /** The `extraRoutes` hook: true when the request was a dashboard route (answered, even if with an error). */
  readonly handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/');
    const isLogin = url.pathname === '/login';
    if (!isApi && !isLogin && !this.assets.has(url.pathname)) return false;
    try {
      this.checkHost(req);
      if (isLogin) await this.only(req.method ?? 'GET', 'GET', () => this.login(req, res, url));
      else if (isApi) await this.api(req, res, url);
      else if (req.method === 'GET' || req.method === 'HEAD') await this.assets.serve(url.pathname, res, req.method === 'HEAD');
      else throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err; // the HTTP server logs it and answers 500
      if (res.headersSent) res.end();
      else sendError(res, err);
    }
    return true;
  };

  private checkHost(req: http.IncomingMessage): void {
    if (!this.policy.loopbackHostsOnly) return;
    const name = hostNameOf(req.headers.host);
    if (name === undefined || !isLoopbackHost(name)) {
      throw new HttpError(403, `refused: the dashboard answers only to a loopback address (http://127.0.0.1:…, http://localhost:…), not Host ${req.headers.host ?? '(none)'}`, 'host');
    }
  }

  private async api(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.split('/').slice(2).map(decodeSegment);
    const route = parts.join('/');
    const method = req.method ?? 'GET';
    if (route === 'session') return this.only(method, 'GET', () => this.session(req, res));
    if (route === 'state') return this.only(method, 'GET', async () => sendJson(res, 200, await this.snapshot()));
    if (route === 'stream') return this.only(method, 'GET', () => this.stream.attach(req, res));
    if (route === 'history') return this.only(method, 'GET', () => sendJson(res, 200, this.o.fleet.history?.() ?? { sampleMs: 0, keep: 0, bots: {} }));
    if (route === 'chat/tap') {
      return this.only(method, 'POST', async () => {
        this.guardAction(req);
        const body = await readJsonBody(req);
        sendJson(res, 200, await this.tapChat(body.messageId, body.data));
      });
    }
    if (route === 'chat') {
      if (method === 'GET') return this.chatPage(res, url);
      return this.only(method, 'POST', async () => {
        this.guardAction(req);
        const body = await readJsonBody(req);
        sendJson(res, 200, await this.sendChat(body.text));
      });
    }
    if (parts[0] === 'bots' && parts[1] !== undefined) {
      const bot = parts[1];
      const rest = parts.slice(2).join('/');
      if (rest === 'log') return this.only(method, 'GET', () => this.logTail(req, res, this.knownBot(bot), url));
      if (rest === 'restart') return this.only(method, 'POST', () => this.restart(req, res, this.knownBot(bot)));
      if (rest === 'stop' || rest === 'start') return this.only(method, 'POST', () => this.stopOrStart(req, res, this.knownBot(bot), rest));
      if (parts[2] === 'children' && parts[3] !== undefined && parts[4] === 'stop' && parts.length === 5) {
        const pid = parts[3];
        return this.only(method, 'POST', () => this.stopChild(req, res, this.knownBot(bot), pid));
      }
    }
    throw new HttpError(404, `no dashboard route ${method} ${url.pathname}`);
  }

  private async only(method: string, allowed: 'GET' | 'POST', run: () => void | Promise<void>): Promise<void> {
    if (method !== allowed) throw new HttpError(405, `use ${allowed} here`);
    await run();
  }

  /** A login link for the owner (minted through the control socket): `<base>/login?code=…`. */
  loginUrl(base: string): string {
    return `${base}/login?code=${this.owner.mint()}`;
  }

  private login(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const cookie = this.owner.redeem(url.searchParams.get('code') ?? '', req);
    if (cookie === undefined) throw new HttpError(403, 'this login link was used already or has expired; run `botvisor dashboard` for a new one', 'owner');
    this.o.logger.info('the owner opened the dashboard with a login link');
    res.writeHead(303, { location: '/', 'set-cookie': cookie, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
  }

  private session(req: http.IncomingMessage, res: http.ServerResponse): void {
    const { token, setCookie } = this.guard.issue(req);
    const owner = this.owner.allows(req);
    const readOnly = this.policy.readOnly || !owner;
    const body: DashboardSession = { csrfToken: token, readOnly, readOnlyReason: this.policy.readOnlyReason ?? (owner ? null : OWNER_ONLY_REASON), sandbox: this.sandboxInfo };
    sendJson(res, 200, body, setCookie === undefined ? {} : { 'set-cookie': setCookie });
  }

  /** Every state-changing request: not in read-only mode, same origin, the session's token. */
  private guardAction(req: http.IncomingMessage): void {
    if (this.policy.readOnly) throw new HttpError(403, this.policy.readOnlyReason ?? 'read-only', 'read-only');
    this.guardOwner(req);
    this.guard.check(req);
  }

  /** Actions and logs: only the owner, where reaching the port proves nothing. */
  private guardOwner(req: http.IncomingMessage): void {
    if (!this.owner.allows(req)) throw new HttpError(403, `refused: ${OWNER_ONLY_REASON}`, 'owner');
  }

  private knownBot(name: string): string {
    if (!this.o.bots.some((b) => b.name === name)) throw new HttpError(404, `no bot named "${name}"`);
    return name;
  }

  private async logTail(req: http.IncomingMessage, res: http.ServerResponse, bot: string, url: URL): Promise<void> {
    this.guardOwner(req); // logs hold users' messages and commands
    const asked = Number(url.searchParams.get('lines') ?? '100');
    const lines = Number.isInteger(asked) && asked > 0 ? Math.min(asked, MAX_LOG_LINES) : 100;
    sendJson(res, 200, await readLogTail(this.o.logDir, bot, lines));
  }

  private async restart(req: http.IncomingMessage, res: http.ServerResponse, bot: string): Promise<void> {
    this.guardAction(req);
    this.o.logger.info('restart requested from the dashboard', { bot });
    try {
      await this.o.fleet.restart(bot);
    } catch (err) {
      throw new HttpError(500, redact((err as Error).message));
    }
    sendJson(res, 200, { restarted: bot });
  }

  private async stopOrStart(req: http.IncomingMessage, res: http.ServerResponse, bot: string, action: 'stop' | 'start'): Promise<void> {
    this.guardAction(req);
    this.o.logger.info(`${action} requested from the dashboard`, { bot });
    try {
      await (action === 'stop' ? this.o.fleet.stopBot(bot) : this.o.fleet.startBot(bot));
    } catch (err) {
      throw new HttpError(500, redact((err as Error).message));
    }
    sendJson(res, 200, action === 'stop' ? { stopped: bot } : { started: bot });
  }

  private async stopChild(req: http.IncomingMessage, res: http.ServerResponse, bot: string, pidText: string): Promise<void> {
    this.guardAction(req);
    const pid = Number(pidText);
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new HttpError(400, `not a pid: ${pidText}`);
    // Before the kill, so the job's end reads "stopped by the operator" (only a tracked child is ever told about).
    if ((this.o.fleet.children(bot) ?? []).some((c) => c.pid === pid)) this.o.fleet.operatorStop?.(bot, pid);
    const result = await stopChild(bot, this.o.fleet.children(bot) ?? [], pid, this.o.killTree);
    this.o.logger.info('CLI child stopped from the dashboard', { bot, pid, command: result.stopped.command, killed: result.killed.length, survivors: result.survivors.length });
    sendJson(res, 200, result);
  }

  private sandboxChat(): SandboxChatPort {
    if (this.chat === undefined) throw new HttpError(404, 'there is no chat: the supervisor is not running in sandbox mode');
    return this.chat;
  }

  private async chatPage(res: http.ServerResponse, url: URL): Promise<void> {
    const chat = this.sandboxChat();
    const number = (name: string, fallback: number): number => {
      const value = Number(url.searchParams.get(name) ?? fallback);
      if (!Number.isSafeInteger(value) || value < 0) throw new HttpError(400, `${name} must be a whole number ≥ 0`);
      return value;
    };
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    res.once('close', onClose);
    try {
      const waitMs = Math.min(number('waitMs', 0), MAX_CHAT_WAIT_MS);
      sendJson(res, 200, await fromSandbox(chat.page(number('after', 0), number('userAfter', 0), waitMs, gone.signal)));
    } finally {
      res.off('close', onClose);
    }
  }

  private async tapChat(messageId: unknown, data: unknown): Promise<{ tapped: true }> {
    const chat = this.sandboxChat();
    if (typeof messageId !== 'number' || !Number.isSafeInteger(messageId) || messageId <= 0) throw new HttpError(400, 'messageId must be the bot message\'s id');
    if (typeof data !== 'string' || data === '' || data.length > 64) throw new HttpError(400, 'data must be the button\'s callback data (1–64 characters)');
    await fromSandbox(chat.tap(messageId, data));
    return { tapped: true };
  }

  private async sendChat(text: unknown): Promise<ChatSent> {
    const chat = this.sandboxChat();
    if (typeof text !== 'string' || text.trim() === '') throw new HttpError(400, 'type a message first');
    if (text.length > MAX_MESSAGE_LENGTH) throw new HttpError(400, `a Telegram message has at most ${MAX_MESSAGE_LENGTH} characters`);
    return fromSandbox(chat.send(text));
  }
}

/** The sandbox's answer, or a 502 saying why it failed (redacted: the port should never name the token, but a message is no place to trust that). */
async function fromSandbox<T>(answer: Promise<T>): Promise<T> {
  try {
    return await answer;
  } catch (err) {
    throw new HttpError(502, redact(err instanceof Error ? err.message : String(err)));
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'malformed URL');
  }
}

function sandboxInfoOf(sandbox: SandboxChatPort, bots: DashboardOptions['bots']): SandboxInfo {
  const matching = bots.filter((b) => b.tokenHash === sandbox.botTokenHash);
  const bot = matching.find((b) => b.polling) ?? matching[0];
  return { bot: bot?.name ?? null, user: { id: sandbox.user.id, first_name: sandbox.user.first_name }, chatId: sandbox.chatId };
}

export function createDashboard(o: DashboardOptions): Dashboard {
  return new Dashboard(o);
}
