/**
 * The supervisor's one internal event stream: bot started, ready, crashed (with cause),
 * restarted, hung, errored, conflict storm, orphans reaped, stopped, a problem raised or cleared,
 * an errored bot retried, a polling lock lost, found held elsewhere or taken, a reload applied or rolled back. Every event is logged at the
 * level it deserves, then handed to each subscriber (the event router, which forwards it to the
 * bots that asked for events; the dashboard); the most recent ones are kept for status pages.
 */
import type { IpcEvent, Logger } from '@botvisor/core';

export type SupervisorEventKind =
  | 'started'
  | 'ready'
  | 'crashed'
  | 'restarted'
  | 'hung'
  | 'errored'
  | 'conflict-storm'
  | 'orphans-reaped'
  | 'stopped'
  /** A bot cannot do its job (its `problem` became a sentence, or another one). */
  | 'problem'
  /** The bot's problem ended by itself. */
  | 'problem-cleared'
  /** An errored bot is tried again (every erroredRetryMs, or at once when its cause is gone). */
  | 'retrying'
  /** A polling lock this supervisor held was lost (compromised); its bot stops polling until it is back. */
  | 'lock-lost'
  /** A polling lock is found held by another installation or a bot run by hand; its bot waits. */
  | 'lock-waiting'
  /** A polling lock was taken after waiting for it or losing it; its bot starts polling. */
  | 'lock-taken'
  /** Cluster mode: this node took a token's lease (a change of active node); its bot polls here now. */
  | 'cluster-active'
  /** Cluster mode: this node lost (or could not renew) a token's lease; its bot stopped polling here. */
  | 'cluster-standby'
  /** A reload handed a bot over to its new process, or added or removed a bot. */
  | 'reloaded'
  /** A reload's new process of a bot did not become ready: rolled back, the old one keeps running. */
  | 'reload-failed';

export type SupervisorEvent = IpcEvent & { kind: SupervisorEventKind };

const LEVEL: Record<SupervisorEventKind, 'error' | 'warning' | 'info'> = {
  started: 'info',
  ready: 'info',
  stopped: 'info',
  restarted: 'info',
  crashed: 'warning',
  'conflict-storm': 'warning',
  'orphans-reaped': 'warning',
  hung: 'error',
  errored: 'error',
  problem: 'error',
  'problem-cleared': 'info',
  retrying: 'info',
  'lock-lost': 'warning',
  'lock-waiting': 'warning',
  'lock-taken': 'info',
  'cluster-active': 'warning',
  'cluster-standby': 'warning',
  reloaded: 'info',
  'reload-failed': 'error',
};

export class EventStream {
  private readonly subscribers: Array<(e: SupervisorEvent) => void> = [];
  private readonly recentEvents: SupervisorEvent[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly keep = 200,
  ) {}

  emit(kind: SupervisorEventKind, message: string, bot?: string, data?: Record<string, unknown>): SupervisorEvent {
    const event: SupervisorEvent = { kind, at: new Date().toISOString(), message, ...(bot !== undefined ? { bot } : {}), ...(data !== undefined ? { data } : {}) };
    this.logger[LEVEL[kind]](message, { event: kind, ...(bot !== undefined ? { bot } : {}), ...data });
    this.recentEvents.push(event);
    if (this.recentEvents.length > this.keep) this.recentEvents.shift();
    for (const s of this.subscribers) s(event);
    return event;
  }

  subscribe(fn: (e: SupervisorEvent) => void): () => void {
    this.subscribers.push(fn);
    return () => {
      const i = this.subscribers.indexOf(fn);
      if (i >= 0) this.subscribers.splice(i, 1);
    };
  }

  recent(): readonly SupervisorEvent[] {
    return this.recentEvents;
  }
}
