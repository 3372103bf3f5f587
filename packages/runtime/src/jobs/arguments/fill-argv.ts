/**
 * Fills the `{name}` placeholders of a CLI job's argv template with the user's values, each
 * checked against its pattern in full before anything runs. The result is
 * an argv array handed to `spawn` without a shell, so a value is one literal argument whatever
 * it contains — `; rm -rf /`, `$(id)`, backticks and newlines mean nothing here. A mismatch is
 * an `ArgumentError` whose message shows the pattern, for the user.
 *
 * Names and values are looked up as own properties only: a placeholder named like an
 * Object.prototype member (`{constructor}`) is refused, never filled with `function Object()…`.
 * A NUL byte is refused too — no program can receive one in its argv.
 */

const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;

/** True for a name that every plain object answers without having it (`constructor`, `toString`, …). */
export function isReservedName(name: string): boolean {
  return name in Object.prototype;
}

/** A value of `record` that it really holds (not one inherited from Object.prototype). */
function own(record: Readonly<Record<string, string>>, name: string): string | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** What was wrong: for a person (`missing`, `mismatch`, `unexpected`) or in the command's config (`config`). */
export type ArgumentProblem = 'missing' | 'mismatch' | 'unexpected' | 'config';

export class ArgumentError extends Error {
  override readonly name = 'ArgumentError';
  constructor(
    message: string,
    readonly problem: ArgumentProblem = 'config',
    /** The value the person sent, shown back (quoted, shortened). */
    readonly shownValue?: string,
  ) {
    super(message);
  }
}

/** Placeholder names in the order they first appear in the template. */
export function placeholdersOf(template: readonly string[]): string[] {
  const names: string[] = [];
  for (const part of template) for (const m of part.matchAll(PLACEHOLDER)) if (!names.includes(m[1] as string)) names.push(m[1] as string);
  return names;
}

/** `value` shown back to a person: quoted, control characters escaped, shortened. */
function shown(value: string): string {
  const quoted = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return quoted;
}

/** True when `pattern` matches all of `value` (anchored here, whatever the pattern says). */
export function matchesInFull(pattern: string, value: string): boolean {
  // A pattern without ^…$ must still cover the whole value, so wrap it; JavaScript's `$` (no `m`
  // flag) matches only at the very end, so a trailing newline cannot sneak through.
  return new RegExp(`^(?:${pattern})$`).test(value);
}

/**
 * Fills the template. Every placeholder needs a value and a pattern; every value must match its
 * pattern in full. Values are substituted literally (a value containing `{x}` stays as it is).
 */
export function fillArgv(template: readonly string[], values: Readonly<Record<string, string>>, patterns: Readonly<Record<string, string>>): string[] {
  for (const name of placeholdersOf(template)) {
    if (isReservedName(name)) throw new ArgumentError(`the command's placeholder {${name}} has a reserved name; rename it in its "argv" and "args"`);
    const pattern = own(patterns, name);
    if (pattern === undefined) throw new ArgumentError(`the command has no pattern for {${name}}; add one to its "args"`);
    const value = own(values, name);
    if (value === undefined || value === '') throw new ArgumentError(`missing argument <${name}> (it must match ${pattern})`, 'missing');
    if (value.includes('\0')) throw new ArgumentError(`argument <${name}> contains a NUL byte, which no program can receive`, 'mismatch', shown(value));
    if (!matchesInFull(pattern, value)) throw new ArgumentError(`argument <${name}> must match ${pattern}; got ${shown(value)}`, 'mismatch', shown(value));
  }
  return template.map((part) => part.replace(PLACEHOLDER, (whole, name: string) => own(values, name) ?? whole));
}

/**
 * Splits what a user typed after the command into the template's placeholders: one placeholder
 * takes the whole text; with several, words are split on whitespace and the last placeholder
 * takes the rest of the line. No quoting rules: a value is checked by its pattern, not parsed.
 */
export function valuesFromText(template: readonly string[], text: string): Record<string, string> {
  const names = placeholdersOf(template);
  const trimmed = text.trim();
  const values: Record<string, string> = {};
  if (names.length === 0) {
    if (trimmed !== '') throw new ArgumentError('this command takes no arguments', 'unexpected', shown(trimmed));
    return values;
  }
  if (names.length === 1) {
    if (trimmed !== '') values[names[0] as string] = trimmed;
    return values;
  }
  let rest = trimmed;
  names.forEach((name, i) => {
    if (rest === '') return;
    if (i === names.length - 1) {
      values[name] = rest;
      return;
    }
    const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
    values[name] = m?.[1] ?? rest;
    rest = m?.[2] ?? '';
  });
  return values;
}

/**
 * One sentence for a person whose arguments did not fit: what the command takes — in the
 * config's words (`takes`) when it has them, else each placeholder with its pattern — with the
 * config's example, and what they sent. Said once; a config mistake keeps its own message.
 */
export function explainArguments(command: string, spec: { argv: readonly string[]; args?: Readonly<Record<string, string>>; takes?: string | undefined; example?: string | undefined }, err: ArgumentError): string {
  if (err.problem === 'config') return err.message;
  const names = placeholdersOf(spec.argv);
  const patterns = spec.args ?? {};
  const takes = spec.takes ?? (names.length === 0 ? 'no arguments' : names.map((n) => `<${n}> (${own(patterns, n) ?? 'no pattern'})`).join(' '));
  const example = spec.example !== undefined ? `, e.g. /${command} ${spec.example}` : '';
  const sent = err.shownValue !== undefined ? ` (not ${err.shownValue})` : '';
  return `/${command} takes ${takes}${example}${sent}.`;
}
