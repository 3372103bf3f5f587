/**
 * ConfigError: every problem of a config at once, each as `path: what is expected`, with paths
 * written the way a person finds them in the file (`bots[1].commands.sleep.args.secs`).
 */

export interface ConfigIssue {
  path: string;
  message: string;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${source} is invalid:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`);
  }
}
