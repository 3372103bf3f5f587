/**
 * Turns the bots' individual 409 reports into one "conflict storm" event: at least `threshold`
 * conflicts on a bot within `windowMs`, reported at most once per window — the field report's
 * 3,752 CRITICAL lines become one line that says what is wrong.
 */

export class ConflictStormDetector {
  private readonly times = new Map<string, number[]>();
  private readonly lastReport = new Map<string, number>();

  constructor(
    private readonly threshold = 5,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one conflict; returns the count in the window when a storm should be reported now. */
  record(bot: string): number | undefined {
    const now = this.now();
    const list = (this.times.get(bot) ?? []).filter((t) => t > now - this.windowMs);
    list.push(now);
    this.times.set(bot, list);
    if (list.length < this.threshold) return undefined;
    const last = this.lastReport.get(bot);
    if (last !== undefined && now - last < this.windowMs) return undefined;
    this.lastReport.set(bot, now);
    return list.length;
  }
}
