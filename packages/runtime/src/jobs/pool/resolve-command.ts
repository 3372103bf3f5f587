/**
 * Turns what a user asked ("/sleep 5") into a checked, ready-to-run argv. The command is looked up
 * in the bot's config (or given inline by the bot's code); admin-only commands are refused to
 * others; the user's text is split into the command's placeholders, each checked against its
 * pattern (arguments/). Nothing here runs anything.
 */
import type { ParsedCommand } from '@botvisor/core';
import { ArgumentError, explainArguments, fillArgv, valuesFromText } from '../arguments/fill-argv.js';
import { jobText } from './job-messages.js';

/** A command as in `botvisor.json`'s `commands` (defaults applied or not). */
export interface CommandSpec {
  argv: readonly string[];
  args?: Readonly<Record<string, string>>;
  timeoutSec?: number;
  idleTimeoutSec?: number;
  admin?: boolean;
  /** What the arguments are, in words ("a number of seconds, 1–999"): said when they do not fit. */
  takes?: string;
  /** Example arguments ("30"): shown with `takes`. */
  example?: string;
}

export type ResolvedCommand =
  | {
      ok: true;
      argv: string[];
      /** The user's values by placeholder name: what a Retry checks again against the config of its day. */
      values: Record<string, string>;
      timeoutMs: number;
      idleTimeoutMs?: number;
      title: string;
    }
  | { ok: false; reason: 'unknown-command' | 'admin-only' | 'bad-arguments'; message: string };

export interface CommandRequest {
  command: string;
  /** The text after the command, or values by name. */
  args?: string | Readonly<Record<string, string>>;
  /** Inline instead of from the config. */
  spec?: CommandSpec;
}

const DEFAULT_TIMEOUT_SEC = 600;

function titleOf(command: string, args: CommandRequest['args']): string {
  const text = typeof args === 'string' ? args.trim() : Object.values(args ?? {}).join(' ');
  const title = `/${command}${text !== '' ? ` ${text.replace(/\s+/g, ' ')}` : ''}`;
  return title.length > 80 ? `${title.slice(0, 79)}…` : title;
}

export function resolveCommand(request: CommandRequest, commands: Readonly<Record<string, ParsedCommand | CommandSpec>>, isAdmin: boolean): ResolvedCommand {
  // Own keys only: a command named like an Object.prototype member is not a command.
  const spec = request.spec ?? (Object.hasOwn(commands, request.command) ? commands[request.command] : undefined);
  if (spec === undefined) return { ok: false, reason: 'unknown-command', message: jobText.unknownCommand(request.command) };
  if (spec.admin === true && !isAdmin) return { ok: false, reason: 'admin-only', message: jobText.adminOnly(request.command) };
  const patterns = spec.args ?? {};
  let argv: string[];
  let values: Record<string, string>;
  try {
    values = typeof request.args === 'string' || request.args === undefined ? valuesFromText(spec.argv, request.args ?? '') : { ...request.args };
    argv = fillArgv(spec.argv, values, patterns);
  } catch (err) {
    if (!(err instanceof ArgumentError)) throw err;
    return { ok: false, reason: 'bad-arguments', message: explainArguments(request.command, spec, err) };
  }
  return {
    ok: true,
    argv,
    values,
    timeoutMs: (spec.timeoutSec ?? DEFAULT_TIMEOUT_SEC) * 1000,
    ...(spec.idleTimeoutSec !== undefined ? { idleTimeoutMs: spec.idleTimeoutSec * 1000 } : {}),
    title: titleOf(request.command, request.args),
  };
}
