/**
 * What the sessions tests share: a recording Api that keeps each message's latest text, a manual
 * clock for the idle timer (advanced only by the test), an in-memory sessions store, and the
 * session specs that run the fake agent.
 */

import { FAKE_AGENT } from '@botvisor/testkit';
import type { SessionClock, SessionSpec, SessionsFile, SessionsStore } from '../../src/sessions/index.js';
import { emptySessionsFile } from '../../src/sessions/index.js';

export interface ShownMessage {
  id: number;
  chatId: number;
  text: string;
  edits: number;
}

/** Records what sessions say; answers like the Bot API would. */
export class ChatRecorder {
  readonly messages: ShownMessage[] = [];
  readonly documents: Array<{ chatId: number; caption: string; filename: string | undefined }> = [];
  readonly actions: number[] = [];
  private nextId = 1;

  /** The latest text of every message in `chatId`, oldest first. */
  texts(chatId: number): string[] {
    return this.messages.filter((m) => m.chatId === chatId).map((m) => m.text);
  }

  sendMessage = async (params: { chat_id: number; text: string }) => {
    const m = { id: this.nextId++, chatId: params.chat_id, text: params.text, edits: 0 };
    this.messages.push(m);
    return { message_id: m.id };
  };
  editMessageText = async (params: { message_id: number; text: string }) => {
    const m = this.messages.find((x) => x.id === params.message_id);
    if (m !== undefined) {
      m.text = params.text;
      m.edits++;
    }
    return true;
  };
  sendChatAction = async (params: { chat_id: number }) => {
    this.actions.push(params.chat_id);
    return true;
  };
  sendDocument = async (params: { chat_id: number; caption?: string; document: { filename?: string } }) => {
    this.documents.push({ chatId: params.chat_id, caption: params.caption ?? '', filename: params.document.filename });
    return { message_id: this.nextId++ };
  };
}

/** A clock that moves only when the test says so; due timers run in order, synchronously. */
export class ManualClock implements SessionClock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= target).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = target;
  }
}

export function memoryStore(): SessionsStore & { file: SessionsFile } {
  const holder = { file: emptySessionsFile() };
  return {
    get file() {
      return holder.file;
    },
    read: () => holder.file,
    update: (fn) => fn(holder.file),
    flush: async () => undefined,
  };
}

export function agentSpec(protocol: 'stream-json' | 'lines', extra: Partial<SessionSpec> = {}, agentArgs: string[] = []): SessionSpec {
  return {
    argv: [process.execPath, FAKE_AGENT, '--protocol', protocol, ...agentArgs],
    protocol,
    turnIdleMs: 300,
    turnTimeoutSec: 60,
    idleTimeoutSec: 600,
    maxSessions: 4,
    queueLimit: 20,
    default: true,
    ...extra,
  };
}
