/**
 * A `Logger` that keeps every record in memory, for tests that assert what was logged at which
 * level.
 */
import type { Logger, LogLevel, LogMeta } from '@botvisor/core';

export interface LogRecord {
  level: LogLevel;
  msg: string;
  meta: LogMeta;
}

export class RecordingLogger implements Logger {
  readonly records: LogRecord[] = [];

  error(msg: string, meta: LogMeta = {}): void {
    this.records.push({ level: 'error', msg, meta });
  }
  warning(msg: string, meta: LogMeta = {}): void {
    this.records.push({ level: 'warning', msg, meta });
  }
  info(msg: string, meta: LogMeta = {}): void {
    this.records.push({ level: 'info', msg, meta });
  }
  debug(msg: string, meta: LogMeta = {}): void {
    this.records.push({ level: 'debug', msg, meta });
  }
  child(): Logger {
    return this;
  }
  async close(): Promise<void> {}

  at(level: LogLevel): LogRecord[] {
    return this.records.filter((r) => r.level === level);
  }
}
