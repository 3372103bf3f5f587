/**
 * A counter or gauge kept as plain numbers per label set, in the shape prom-client's Registry
 * formats (`name`, `help`, `type`, `get()`), so that the supervisor can count from its first
 * second without loading prom-client: the registry is built on the first scrape (metrics.ts).
 */

export type Labels = Record<string, string | number>;

export interface MetricValue {
  labels: Labels;
  value: number;
}

export class TallyMetric {
  readonly aggregator = 'sum';
  /** Keyed by the label values in order; insertion order is the order prom-client printed them in. */
  private readonly values = new Map<string, MetricValue>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    /** Runs before every read (a gauge set from the current state on each scrape). */
    private readonly collect?: (metric: TallyMetric) => void,
  ) {}

  inc(labels: Labels, by = 1): void {
    const v = this.entry(labels);
    v.value += by;
  }

  set(labels: Labels, value: number): void {
    this.entry(labels).value = value;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    this.collect?.(this);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.values.values()].map((v) => ({ labels: { ...v.labels }, value: v.value })) };
  }

  private entry(labels: Labels): MetricValue {
    const key = Object.values(labels).join('\u0000');
    let v = this.values.get(key);
    if (v === undefined) {
      v = { labels: { ...labels }, value: 0 };
      this.values.set(key, v);
    }
    return v;
  }
}
