/**
 * A bot's `problem`: one sentence a person can act on, or null while the bot can do its job.
 * Several causes can hold at once (a failed start-up, a polling lock held by another
 * installation, a poll loop the bot reports failing); each cause is kept under its source and
 * the most important one is the bot's problem. A cause clears itself by its source clearing it.
 */

/** Most important first: the order in which a bot's causes are shown. */
export const PROBLEM_SOURCES = ['errored', 'startup', 'lock', 'polling'] as const;

export type ProblemSource = (typeof PROBLEM_SOURCES)[number];

export type ProblemChange = (current: string | null, previous: string | null) => void;

export class ProblemBoard {
  private readonly causes = new Map<ProblemSource, string>();

  constructor(private readonly onChange: ProblemChange = () => undefined) {}

  /** Sets (or replaces) the sentence of one source. */
  raise(source: ProblemSource, sentence: string): void {
    this.apply(() => void this.causes.set(source, sentence));
  }

  clear(source: ProblemSource): void {
    this.apply(() => void this.causes.delete(source));
  }

  /** The sentence of the most important cause, or null. */
  current(): string | null {
    for (const source of PROBLEM_SOURCES) {
      const sentence = this.causes.get(source);
      if (sentence !== undefined) return sentence;
    }
    return null;
  }

  has(source: ProblemSource): boolean {
    return this.causes.has(source);
  }

  private apply(change: () => void): void {
    const before = this.current();
    change();
    const after = this.current();
    if (after !== before) this.onChange(after, before);
  }
}
