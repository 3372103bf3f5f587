/**
 * One human sentence for a job that did not succeed, built from what actually happened — the
 * spawn error, the deadline, the signal, the tail of stderr — instead of "exit code 1". It is
 * shown to the person in the chat, so it is short and names the program, not the machinery.
 */

export interface FailureFacts {
  program: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  timeoutKind?: 'total' | 'idle';
  timeoutMs?: number;
  idleTimeoutMs?: number;
  cancelled: boolean;
  /** Code of the error `spawn` reported (ENOENT, EACCES, …). */
  spawnError?: string;
  stderrTail: string;
}

const MAX_DETAIL = 300;
const ERRORISH = /error|fatal|denied|not found|no such|cannot|can't|couldn't|invalid|failed|refused|unknown|usage|expected|missing|unable|not permitted/i;
/** Stack frames and runtime banners say nothing to a person in a chat. */
const NOISE = /^(at\s|Node\.js v\d|\^+$|~+$|-+$|Traceback \(most recent call last\):$)/;

function seconds(ms: number | undefined): string {
  if (ms === undefined) return 'the limit';
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The line of stderr most worth showing: the last error-looking one, else the last meaningful one. */
export function pickStderrLine(stderrTail: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping terminal escape codes is the point
  const lines = stderrTail.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split(/\r?\n|\r/).map((l) => l.trim()).filter((l) => l !== '' && !NOISE.test(l));
  const line = [...lines].reverse().find((l) => ERRORISH.test(l)) ?? lines[lines.length - 1];
  if (line === undefined) return undefined;
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line;
}

/** undefined for a success (exit code 0, no deadline, not cancelled). */
export function failureSentence(f: FailureFacts): string | undefined {
  const name = `\`${f.program}\``;
  if (f.spawnError === 'ENOENT') return `${name} could not be started: it is not installed, or not on the PATH the bot's jobs get.`;
  if (f.spawnError === 'ENOCWD') return `${name} could not be started: its working folder does not exist.`;
  if (f.spawnError === 'EACCES') return `${name} could not be started: it is not executable (permission denied).`;
  if (f.spawnError !== undefined) return `${name} could not be started (${f.spawnError}).`;
  if (f.cancelled) return `${name} was stopped on request.`;
  if (f.timedOut && f.timeoutKind === 'idle') return `${name} printed nothing for ${seconds(f.idleTimeoutMs)} and was stopped.`;
  if (f.timedOut) return `${name} ran longer than its ${seconds(f.timeoutMs)} limit and was stopped.`;
  if (f.code === 0 && f.signal === null) return undefined;
  const detail = pickStderrLine(f.stderrTail);
  if (f.signal !== null) return `${name} was killed by ${f.signal}${detail !== undefined ? `; its last words: ${detail}` : '.'}`;
  if (detail !== undefined) return `${name} failed (exit code ${f.code}): ${detail}`;
  if (f.code === 127) return `${name} failed with exit code 127: a program it runs was not found.`;
  if (f.code === 126) return `${name} failed with exit code 126: a program it runs is not executable.`;
  return `${name} failed with exit code ${f.code} and printed no error message.`;
}
