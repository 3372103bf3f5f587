/**
 * The process logger: winston, JSON lines to `<logDir>/<proc>.log`, rotated by
 * winston-daily-rotate-file (daily and by size; files are `<proc>-<date>.log[.N]` and `<proc>.log`
 * is a symlink to the live one), and a readable line on the console when stdout is a terminal.
 * (winston's own File transport hangs on close when it rotates during a burst, so it is not used.)
 *
 * Every record carries `ts, level, proc, pid, msg`, always the logging process's own: metadata
 * with one of those names (a bot's `pid` in a supervisor line) is moved under `meta` instead of
 * overwriting them. Log files are 0600 in a 0700 folder. Levels are `error` (a person must look),
 * `warning` (expected transient trouble: 409, 429, network), `info`, `debug`. Redaction runs on
 * the finished line, after metadata and errors are serialized, so a token cannot slip through a
 * stack trace or a nested field.
 */
import { chmodSync } from 'node:fs';
import path from 'node:path';
import winston from 'winston';
import DailyRotateFile from 'winston-daily-rotate-file';
import { makePrivateDirSync, PRIVATE_FILE_MODE } from '../fs/private-paths.js';
import { redact } from './redact.js';
import { serializeMeta } from './serialize.js';

export type LogLevel = 'error' | 'warning' | 'info' | 'debug';
export type LogMeta = Record<string, unknown>;

export interface Logger {
  error(msg: string, meta?: LogMeta): void;
  warning(msg: string, meta?: LogMeta): void;
  info(msg: string, meta?: LogMeta): void;
  debug(msg: string, meta?: LogMeta): void;
  /** A logger whose records all carry `meta` (e.g. `{ bot: 'main' }`). */
  child(meta: LogMeta): Logger;
  /** Flushes and closes the transports; await it before `process.exit` so the last lines reach the file. */
  close(): Promise<void>;
}

export interface LoggerOptions {
  /** The process name: the file is `<logDir>/<proc>.log` and every record carries it. */
  proc: string;
  /** Folder for the log file; omit for console only. */
  logDir?: string;
  level?: LogLevel;
  /** Console output: 'auto' (default) writes readable lines only when stdout is a TTY. */
  console?: 'auto' | 'always' | 'never';
  /** Rotation: size of one file and how many files to keep (the live one included). Defaults 10 MB, 10. */
  maxSizeBytes?: number;
  maxFiles?: number;
}

const LEVELS: Record<LogLevel, number> = { error: 0, warning: 1, info: 2, debug: 3 };

/** The fields every record has of its own; metadata must not overwrite them. */
const RECORD_FIELDS = new Set(['ts', 'level', 'proc', 'pid', 'msg', 'message']);

/**
 * Metadata whose keys clash with the record's own fields, with those keys moved under `meta`
 * (`{ pid: 42 }` → `{ meta: { pid: 42 } }`): winston would otherwise let them win.
 */
function guardRecordFields(meta: LogMeta): LogMeta {
  const clashing = Object.keys(meta).filter((k) => RECORD_FIELDS.has(k));
  if (clashing.length === 0) return meta;
  const kept: LogMeta = {};
  const moved: LogMeta = {};
  for (const [k, v] of Object.entries(meta)) {
    if (RECORD_FIELDS.has(k)) moved[k] = v;
    else kept[k] = v;
  }
  const existing = kept.meta;
  if (existing === undefined) kept.meta = moved;
  else if (typeof existing === 'object' && existing !== null && !Array.isArray(existing)) kept.meta = { ...(existing as LogMeta), ...moved };
  else kept.meta = { ...moved, meta: existing };
  return kept;
}

const shapeRecord = winston.format((info) => {
  const { level, message, proc, pid, ts, ...rest } = info as Record<string | symbol, unknown>;
  const shaped: Record<string | symbol, unknown> = {
    ts: ts ?? new Date().toISOString(),
    level,
    proc,
    pid,
    msg: typeof message === 'string' ? message : String(message),
    ...serializeMeta(rest as Record<string, unknown>),
  };
  for (const sym of Object.getOwnPropertySymbols(info)) shaped[sym] = (info as Record<symbol, unknown>)[sym];
  return shaped as winston.Logform.TransformableInfo;
});

function jsonLine(): winston.Logform.Format {
  return winston.format.printf((info) => {
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(info)) plain[k] = v;
    return redact(JSON.stringify(plain));
  });
}

function consoleLine(): winston.Logform.Format {
  return winston.format.printf((info) => {
    const { ts, level, proc, pid, msg, ...rest } = info as Record<string, unknown>;
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    return redact(`${String(ts)} ${String(level).toUpperCase().padEnd(7)} ${String(proc)}[${String(pid)}] ${String(msg)}${extra}`);
  });
}

function wrap(w: winston.Logger): Logger {
  return {
    error: (msg, meta) => void w.log('error', msg, guardRecordFields(meta ?? {})),
    warning: (msg, meta) => void w.log('warning', msg, guardRecordFields(meta ?? {})),
    info: (msg, meta) => void w.log('info', msg, guardRecordFields(meta ?? {})),
    debug: (msg, meta) => void w.log('debug', msg, guardRecordFields(meta ?? {})),
    child: (meta) => wrap(w.child(guardRecordFields(meta))),
    close: () => closeWinston(w),
  };
}

async function closeWinston(w: winston.Logger): Promise<void> {
  const files = w.transports.filter((t) => t instanceof DailyRotateFile);
  // First every record reaches the transports, then each transport ends its file stream;
  // only the second 'finish' (emitted by close() from the stream's end callback) means "on disk".
  await new Promise<void>((resolve) => {
    w.once('finish', () => resolve());
    w.end();
  });
  await Promise.all(
    files.map((t) => new Promise<void>((resolve) => {
      t.once('finish', () => resolve());
      t.close?.();
    })),
  );
}

function privateIfExists(file: string): void {
  try {
    chmodSync(file, PRIVATE_FILE_MODE);
  } catch {
    // not written (yet): nothing to protect
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info';
  const transports: winston.transport[] = [];
  if (options.logDir !== undefined) {
    makePrivateDirSync(options.logDir);
    const auditFile = path.join(options.logDir, `.${options.proc}-audit.json`);
    const file = new DailyRotateFile({
      dirname: options.logDir,
      filename: `${options.proc}-%DATE%.log`,
      datePattern: 'YYYY-MM-DD',
      maxSize: options.maxSizeBytes ?? 10 * 1024 * 1024,
      maxFiles: options.maxFiles ?? 10,
      createSymlink: true,
      symlinkName: `${options.proc}.log`,
      auditFile,
      options: { flags: 'a', mode: PRIVATE_FILE_MODE },
      format: jsonLine(),
    });
    // The rotator writes its audit file (the list of log files) with no mode of its own; it has
    // just rewritten it when a new log file starts.
    file.on('new', () => privateIfExists(auditFile));
    transports.push(file);
  }
  const wantConsole = options.console ?? 'auto';
  if (wantConsole === 'always' || (wantConsole === 'auto' && process.stdout.isTTY === true)) {
    transports.push(new winston.transports.Console({ format: consoleLine() }));
  }
  if (transports.length === 0) transports.push(new winston.transports.Console({ silent: true }));
  const w = winston.createLogger({
    levels: LEVELS,
    level,
    defaultMeta: { proc: options.proc, pid: process.pid },
    format: shapeRecord(),
    transports,
  });
  return wrap(w);
}
