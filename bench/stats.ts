/** Small statistics helpers shared by the benchmark sections. */
import { mulberry32 } from "../lib/random.ts";

/** The q-quantile (0..1) of the values by linear interpolation; NaN for no values. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

export interface LatencySummary {
  count: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

export function summarize(values: ArrayLike<number>): LatencySummary {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (values[i] > max) max = values[i];
  }
  return {
    count: values.length,
    mean_ms: round(values.length ? sum / values.length : NaN),
    p50_ms: round(quantile(values, 0.5)),
    p95_ms: round(quantile(values, 0.95)),
    p99_ms: round(quantile(values, 0.99)),
    max_ms: round(max),
  };
}

/** Rounds to `digits` decimals (3 by default); keeps NaN and null as they are. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** mulberry32 (lib/random.ts): so that "varied parameters" are the same in every run. */
export const seededRandom = mulberry32;
