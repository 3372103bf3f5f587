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

export class ArgumentError extends Error {
  override readonly name = 'ArgumentError';
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
    if (value === undefined || value === '') throw new ArgumentError(`missing argument <${name}> (it must match ${pattern})`);
    if (value.includes('\0')) throw new ArgumentError(`argument <${name}> contains a NUL byte, which no program can receive`);
    if (!matchesInFull(pattern, value)) throw new ArgumentError(`argument <${name}> must match ${pattern}; got ${shown(value)}`);
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
    if (trimmed !== '') throw new ArgumentError('this command takes no arguments');
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

/** "usage: /name <a> <b>" with each pattern, for a message after a mistake. */
export function usageOf(command: string, template: readonly string[], patterns: Readonly<Record<string, string>>): string {
  const names = placeholdersOf(template);
  const line = [`/${command}`, ...names.map((n) => `<${n}>`)].join(' ');
  const rules = names.map((n) => `  <${n}> must match ${own(patterns, n) ?? '(no pattern)'}`);
  return [`usage: ${line}`, ...rules].join('\n');
}
