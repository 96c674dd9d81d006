/**
 * The load generator, run as its own process: autocannon (npm) against one URL for a
 * fixed duration at a fixed number of connections, printing one JSON object on stdout.
 *
 *   deno run -A bench/loadgen.ts '{"url":"http://127.0.0.1:8080/x","connections":50,"duration":10}'
 *
 * Besides autocannon's own summary (whole-millisecond histogram, no p95), every
 * response's time is recorded as autocannon measures it (hrtime, fractional ms), so
 * p50/p95/p99 are exact over all responses of the run.
 */
import autocannon from "autocannon";
import { summarize } from "./stats.ts";

export interface LoadSpec {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** Seconds. */
  duration: number;
  /** Requests per second over all connections; absent = as fast as the server answers. */
  overallRate?: number;
  /**
   * Seconds of load first, not recorded, in this same process: warms the server and
   * the load generator's own JIT alike.
   */
  warmup?: number;
}

export interface LoadResult {
  url: string;
  method: string;
  connections: number;
  duration_s: number;
  requests: number;
  /** Completed responses per second of the run (2xx and others alike). */
  rps: number;
  ok_2xx: number;
  non_2xx: number;
  status_codes: Record<string, number>;
  errors: number;
  timeouts: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  /** autocannon's own figures, for cross-checking. */
  autocannon: { requests_avg_per_s: number; latency_p50_ms: number; latency_p99_ms: number };
}

class Samples {
  #values = new Float64Array(1 << 16);
  #length = 0;
  push(value: number) {
    if (this.#length === this.#values.length) {
      const bigger = new Float64Array(this.#values.length * 2);
      bigger.set(this.#values);
      this.#values = bigger;
    }
    this.#values[this.#length++] = value;
  }
  values(): Float64Array {
    return this.#values.subarray(0, this.#length);
  }
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.warmup && spec.warmup > 0) {
    await autocannon({
      url: spec.url,
      method: spec.method ?? "GET",
      headers: spec.headers,
      body: spec.body,
      connections: spec.connections,
      duration: spec.warmup,
    });
  }
  const samples = new Samples();
  const statusCodes: Record<string, number> = {};
  const started = performance.now();
  const instance = autocannon({
    url: spec.url,
    method: spec.method ?? "GET",
    headers: spec.headers,
    body: spec.body,
    connections: spec.connections,
    duration: spec.duration,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
  });
  instance.on("response", (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
    samples.push(ms);
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  const elapsedS = (performance.now() - started) / 1000;
  const latencies = summarize(samples.values());
  const ok = Object.entries(statusCodes).filter(([code]) => code.startsWith("2"))
    .reduce((sum, [, count]) => sum + count, 0);
  const durationS = Math.min(elapsedS, Number(result.duration) || spec.duration);
  return {
    url: spec.url,
    method: spec.method ?? "GET",
    connections: spec.connections,
    duration_s: Math.round(durationS * 1000) / 1000,
    requests: latencies.count,
    rps: Math.round((latencies.count / durationS) * 10) / 10,
    ok_2xx: ok,
    non_2xx: latencies.count - ok,
    status_codes: statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    mean_ms: latencies.mean_ms,
    p50_ms: latencies.p50_ms,
    p95_ms: latencies.p95_ms,
    p99_ms: latencies.p99_ms,
    max_ms: latencies.max_ms,
    autocannon: {
      requests_avg_per_s: result.requests.average,
      latency_p50_ms: result.latency.p50,
      latency_p99_ms: result.latency.p99,
    },
  };
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0] ?? "{}") as LoadSpec;
  if (!spec.url || !spec.connections || !spec.duration) {
    console.error('usage: loadgen.ts \'{"url":...,"connections":50,"duration":10}\'');
    Deno.exit(2);
  }
  console.log(JSON.stringify(await runLoad(spec)));
}
