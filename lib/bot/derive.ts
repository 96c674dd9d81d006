/**
 * The few numbers the bot derives from the API's answers: a trend's first, last,
 * peak and change, and a metric's change between two periods (per currency for money).
 */
import {
  metricValue,
  type PeriodChange,
  type Point,
  type SeriesSet,
  type TotalsView,
  type TrendSummary,
} from "./outcome.ts";
import { type BotMetric, isCurrencyBound } from "./query.ts";

/** Rounds a derived number for JSON (6 decimals, like the API's ratios). */
export function round6(value: number): number {
  return Number(value.toFixed(6));
}

export function summarize(
  metric: BotMetric,
  set: SeriesSet & { currency: string | null },
): TrendSummary {
  const points = set.points.flatMap((point) => {
    const value = metricValue(point, metric);
    return value === null ? [] : [{ bucket: point.bucket, value }];
  });
  const first = points[0] ?? null;
  const last = points.length > 1 ? points[points.length - 1] : null;
  const peak = points.reduce<Point | null>(
    (best, point) => (best === null || point.value > best.value ? point : best),
    null,
  );
  const change = first && last ? round6(last.value - first.value) : null;
  return {
    metric,
    currency: isCurrencyBound(metric) ? set.currency : null,
    first,
    last,
    peak,
    change,
    change_pct: first && last && first.value !== 0
      ? round6((last.value - first.value) / first.value)
      : null,
  };
}

/** One metric across two periods; money metrics per currency when totals span several. */
export function periodChanges(
  metric: BotMetric,
  current: TotalsView,
  previous: TotalsView,
): PeriodChange[] {
  const pair = (currency: string | null, a: number | null, b: number | null): PeriodChange => ({
    metric,
    currency,
    current: a,
    previous: b,
    change: a !== null && b !== null ? round6(a - b) : null,
    change_pct: a !== null && b !== null && b !== 0 ? round6((a - b) / b) : null,
  });
  if (!isCurrencyBound(metric)) {
    return [pair(null, metricValue(current.totals, metric), metricValue(previous.totals, metric))];
  }
  const lines = (view: TotalsView) =>
    view.currency !== null || !view.by_currency?.length
      ? new Map([[view.currency, view.totals]])
      : new Map(view.by_currency.map((entry) => [entry.currency as string | null, entry]));
  const now = lines(current);
  const before = lines(previous);
  // Periods with no rows report zeros in a null currency: they pair with any currency.
  const empty = (view: TotalsView) => view.currency === null && !view.by_currency?.length;
  const currencies = [...new Set([...now.keys(), ...before.keys()])].filter((currency) =>
    currency !== null || (empty(current) && empty(previous))
  );
  return currencies.map((currency) => {
    const a = now.get(currency) ?? (empty(current) ? current.totals : undefined);
    const b = before.get(currency) ?? (empty(previous) ? previous.totals : undefined);
    return pair(
      currency,
      a ? metricValue(a, metric) : null,
      b ? metricValue(b, metric) : null,
    );
  });
}
