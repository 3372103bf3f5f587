/**
 * The bridge's command table: the built-ins and the config's commands, in one list that refuses
 * what would silently misbehave — a command registered twice, or a config command that would
 * shadow a built-in (the config's `/help` would never run, or worse, the built-in would not).
 * Both fail loudly at start-up with a ConfigError (exit 78: no restart loop on a config mistake).
 */
import { ConfigError } from '@botvisor/runtime';

export interface CommandEntry {
  name: string;
  description: string;
  /** `<secs>`-style argument list for /help. */
  usage: string;
  source: 'built-in' | 'config';
  admin: boolean;
}

export class CommandTable {
  private readonly entries = new Map<string, CommandEntry>();

  constructor(private readonly botName: string) {}

  add(entry: CommandEntry, configIndex?: number): void {
    const existing = this.entries.get(entry.name);
    if (existing !== undefined) {
      const where = configIndex === undefined ? `command /${entry.name}` : `bots[${configIndex}].commands.${entry.name}`;
      const message = existing.source === 'built-in' && entry.source === 'config' ? `shadows the built-in /${entry.name}; rename it` : `is registered twice (${existing.source} and ${entry.source})`;
      throw new ConfigError(`bot "${this.botName}"`, [{ path: where, message }]);
    }
    this.entries.set(entry.name, entry);
  }

  list(): CommandEntry[] {
    return [...this.entries.values()];
  }

  get(name: string): CommandEntry | undefined {
    return this.entries.get(name);
  }
}
