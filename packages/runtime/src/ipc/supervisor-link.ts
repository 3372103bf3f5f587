/**
 * The bot's end of the IPC channel to the supervisor: validated messages in, typed messages out,
 * and the one fact that matters most — when the channel disconnects, the supervisor is gone and
 * this bot must stop (an orphan must never keep polling). Without a channel (a bot started by
 * hand) every send is a no-op.
 */
import { type FleetSummary, type HelloMessage, type IpcEvent, type IpcMessage, type IpcMessageOf, type Logger, parseIpcMessage, sendIpc } from '@botvisor/core';

type Handler<T extends IpcMessage['type']> = (msg: IpcMessageOf<T>) => void;

export class SupervisorLink {
  private hello: HelloMessage | undefined;
  private readonly helloWaiters: Array<(h: HelloMessage) => void> = [];
  private readonly handlers = new Map<string, Array<(msg: IpcMessage) => void>>();
  private readonly disconnectHandlers: Array<() => void> = [];
  private readonly statusWaiters = new Map<number, (reply: FleetSummary) => void>();
  private requestSeq = 0;
  private subscribed = false;

  constructor(
    private readonly proc: NodeJS.Process,
    private readonly logger: Logger,
  ) {
    if (!this.connected) return;
    proc.on('message', (raw) => this.receive(raw));
    proc.once('disconnect', () => {
      for (const h of this.disconnectHandlers) h();
    });
  }

  /** True when started by a supervisor (an IPC channel exists and is open). */
  get connected(): boolean {
    return this.proc.send !== undefined && this.proc.connected;
  }

  on<T extends IpcMessage['type']>(type: T, handler: Handler<T>): void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as (msg: IpcMessage) => void);
    this.handlers.set(type, list);
  }

  /**
   * Supervisor events for `handler`. The first call tells the supervisor, once per process, that
   * this bot wants them (`subscribe-events`); without a supervisor nothing is sent or received.
   */
  onEvent(handler: (event: IpcEvent) => void): void {
    this.on('event', (m) => handler(m.event));
    if (this.subscribed || !this.connected) return;
    this.subscribed = true;
    this.send({ type: 'subscribe-events' });
  }

  onDisconnect(handler: () => void): void {
    this.disconnectHandlers.push(handler);
  }

  send(message: IpcMessage): boolean {
    return sendIpc(this.proc, message);
  }

  /** Asks the supervisor for the fleet's state; undefined without a supervisor or after `timeoutMs`. */
  fleetStatus(timeoutMs = 3000): Promise<FleetSummary | undefined> {
    if (!this.connected) return Promise.resolve(undefined);
    const id = ++this.requestSeq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.statusWaiters.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.statusWaiters.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      if (!this.send({ type: 'status-request', id })) {
        clearTimeout(timer);
        this.statusWaiters.delete(id);
        resolve(undefined);
      }
    });
  }

  /** The supervisor's hello, waiting up to `timeoutMs` for it; undefined without a supervisor or on time-out. */
  waitForHello(timeoutMs: number): Promise<HelloMessage | undefined> {
    if (this.hello !== undefined || !this.connected) return Promise.resolve(this.hello);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.helloWaiters.push((h) => {
        clearTimeout(timer);
        resolve(h);
      });
    });
  }

  private receive(raw: unknown): void {
    const msg = parseIpcMessage(raw, this.logger);
    if (msg === undefined) return;
    if (msg.type === 'status-reply') {
      const { type: _type, id, ...summary } = msg;
      this.statusWaiters.get(id)?.(summary);
      this.statusWaiters.delete(id);
      return;
    }
    if (msg.type === 'hello') {
      this.hello = msg;
      for (const w of this.helloWaiters.splice(0)) w(msg);
    }
    for (const h of this.handlers.get(msg.type) ?? []) h(msg);
  }
}
