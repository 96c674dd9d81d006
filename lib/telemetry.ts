/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered
 * in the text exposition format. Written here rather than taken from prom-client
 * because that package depends on Node's process and perf_hooks, and this code must
 * also run on edge runtimes.
 */
type Labels = Record<string, string | number>;

/** Rendered label sets, by their values: the same few routes and statuses repeat forever. */
const labelKeys = new Map<string, string>();

function labelKey(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return "";
  const id = names.map((name) => `${name}\u0000${labels[name]}`).join("\u0001");
  let key = labelKeys.get(id);
  if (key === undefined) {
    key = renderLabels(labels);
    if (labelKeys.size < 10_000) labelKeys.set(id, key);
  }
  return key;
}

function renderLabels(labels: Labels): string {
  return Object.keys(labels).sort().map((key) =>
    `${key}="${
      String(labels[key]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    }"`
  ).join(",");
}

function withLabels(name: string, key: string): string {
  return key ? `${name}{${key}}` : name;
}

interface Metric {
  render(): string[];
}

/** Counters and gauges: a value per label set, kept here or read at scrape time. */
abstract class Scalar implements Metric {
  protected readonly values = new Map<string, number | (() => number)>();
  constructor(readonly name: string, readonly help: string, private readonly type: string) {}
  /** A value read at scrape time (backlog sizes, another component's counters). */
  collect(read: () => number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), read);
  }
  get(labels: Labels = {}): number {
    const value = this.values.get(labelKey(labels)) ?? 0;
    return typeof value === "function" ? value() : value;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0 && this.type === "counter") lines.push(`${this.name} 0`);
    for (const [key, value] of this.values) {
      lines.push(`${withLabels(this.name, key)} ${typeof value === "function" ? value() : value}`);
    }
    return lines;
  }
}

export class Counter extends Scalar {
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, this.get(labels) + by);
  }
  /**
   * `inc(labels)` with the label set rendered once: for a hot path that counts the same
   * labels again and again. The same series as `inc(labels)`.
   */
  bind(labels: Labels): (by?: number) => void {
    const key = labelKey(labels);
    return (by = 1) => {
      const value = this.values.get(key) ?? 0;
      this.values.set(key, (typeof value === "function" ? value() : value) + by);
    };
  }
}

export class Gauge extends Scalar {
  constructor(name: string, help: string) {
    super(name, help, "gauge");
  }
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
}

/** Latency buckets in seconds, from a cache hit (sub-millisecond) to a slow query. */
export const LATENCY_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
];

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = LATENCY_BUCKETS,
  ) {}
  observe(value: number, labels: Labels = {}): void {
    this.#observe(labelKey(labels), value);
  }
  /** `observe(value, labels)` with the label set rendered once (see `Counter.bind`). */
  bind(labels: Labels): (value: number) => void {
    const key = labelKey(labels);
    return (value) => this.#observe(key, value);
  }
  #observe(key: string, value: number): void {
    let entry = this.series.get(key);
    if (!entry) {
      entry = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    const index = this.buckets.findIndex((bound) => value <= bound);
    if (index >= 0) entry.counts[index] += 1;
    entry.sum += value;
    entry.count += 1;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, entry] of this.series) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += entry.counts[i];
        const le = key ? `${key},le="${bound}"` : `le="${bound}"`;
        lines.push(`${this.name}_bucket{${le}} ${cumulative}`);
      });
      const inf = key ? `${key},le="+Inf"` : `le="+Inf"`;
      lines.push(`${this.name}_bucket{${inf}} ${entry.count}`);
      lines.push(`${withLabels(`${this.name}_sum`, key)} ${entry.sum}`);
      lines.push(`${withLabels(`${this.name}_count`, key)} ${entry.count}`);
    }
    return lines;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric>();
  counter(name: string, help: string): Counter {
    return this.register(name, () => new Counter(name, help)) as Counter;
  }
  gauge(name: string, help: string): Gauge {
    return this.register(name, () => new Gauge(name, help)) as Gauge;
  }
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    return this.register(name, () => new Histogram(name, help, buckets)) as Histogram;
  }
  render(): string {
    return [...this.metrics.values()].flatMap((metric) => metric.render()).join("\n") + "\n";
  }
  private register(name: string, create: () => Metric): Metric {
    let metric = this.metrics.get(name);
    if (!metric) {
      metric = create();
      this.metrics.set(name, metric);
    }
    return metric;
  }
}
