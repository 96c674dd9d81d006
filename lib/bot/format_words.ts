/**
 * The words replies are built from: numbers (money in its currency's minor unit,
 * percentages, ROAS, counts), dates, platform and campaign names, and a metric's
 * values across currencies.
 */
import { minorUnitDigits } from "../kpi.ts";
import type { Platform } from "../schema.ts";
import { metricValue, type Period, type Subject, type TotalsView } from "./outcome.ts";
import { type BotMetric, isCurrencyBound, isMoneyMetric } from "./query.ts";

export const LOCALE = "en-US";

// ---------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------

export const moneyFormats = new Map<string, Intl.NumberFormat>();

/** `1234.5, "USD"` → "$1,234.50"; `1234, "JPY"` → "¥1,234": the currency's own minor unit. */
export function formatMoney(value: number, currency: string): string {
  let format = moneyFormats.get(currency);
  if (!format) {
    const digits = minorUnitDigits(currency);
    format = new Intl.NumberFormat(LOCALE, {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    moneyFormats.set(currency, format);
  }
  return format.format(value);
}

export const percentFormat = new Intl.NumberFormat(LOCALE, {
  style: "percent",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
export const changeFormat = new Intl.NumberFormat(LOCALE, {
  style: "percent",
  maximumFractionDigits: 1,
});
export const twoDecimals = new Intl.NumberFormat(LOCALE, {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
export const countFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });

/** A rate (0.0512) as a percentage ("5.12%"). */
export function formatPercent(value: number): string {
  return percentFormat.format(value);
}

/** ROAS and other plain ratios: two decimals. */
export function formatRatio(value: number): string {
  return twoDecimals.format(value);
}

/** Impressions, clicks, conversions: grouped, at most two decimals. */
export function formatCount(value: number): string {
  return countFormat.format(value);
}

export const METRIC_LABELS: Readonly<Record<BotMetric, string>> = {
  impressions: "impressions",
  clicks: "clicks",
  conversions: "conversions",
  spend: "spend",
  revenue: "revenue",
  ctr: "CTR",
  roas: "ROAS",
  cpa: "CPA",
  cpc: "CPC",
  cpm: "CPM",
  cvr: "conversion rate",
};

/** Why a ratio has no value: its denominator was zero. */
export const NO_VALUE_BECAUSE: Partial<Record<BotMetric, string>> = {
  ctr: "no impressions",
  cvr: "no clicks",
  roas: "no spend",
  cpa: "no conversions",
  cpc: "no clicks",
  cpm: "no impressions",
};

/** One metric's value in words; money needs its currency. */
export function formatMetric(metric: BotMetric, value: number | null, currency: string | null) {
  if (value === null) return `n/a (${NO_VALUE_BECAUSE[metric] ?? "no data"})`;
  if (isMoneyMetric(metric)) {
    return currency
      ? formatMoney(value, currency)
      : `${twoDecimals.format(value)} (mixed currencies)`;
  }
  if (metric === "ctr" || metric === "cvr") return formatPercent(value);
  if (metric === "roas") return formatRatio(value);
  return formatCount(value);
}

/** The size of a change, without its sign (the words say up or down). */
export function formatDelta(metric: BotMetric, delta: number, currency: string | null): string {
  const size = Math.abs(delta);
  if (metric === "ctr" || metric === "cvr") {
    return `${twoDecimals.format(size * 100)} percentage points`;
  }
  return formatMetric(metric, size, currency);
}

export function changePhrase(
  metric: BotMetric,
  change: number | null,
  changePct: number | null,
  currency: string | null,
): string {
  if (change === null) return "";
  if (change === 0) return "unchanged";
  const direction = change > 0 ? "up" : "down";
  const pct = changePct === null
    ? ""
    : ` (${changePct >= 0 ? "+" : "−"}${changeFormat.format(Math.abs(changePct))})`;
  return `${direction} ${formatDelta(metric, change, currency)}${pct}`;
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

// ---------------------------------------------------------------------------------
// Dates, platforms, subjects
// ---------------------------------------------------------------------------------

export const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];
export const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** "2024-03-03" (or an ISO instant, read in UTC) → "3 Mar", with " 2024" when asked. */
export function formatDay(date: string, withYear = false): string {
  const [year, month, day] = date.slice(0, 10).split("-").map(Number);
  return `${day} ${MONTHS[month - 1]}${withYear ? ` ${year}` : ""}`;
}

export function formatMonth(date: string, withYear: boolean): string {
  const [year, month] = date.slice(0, 10).split("-").map(Number);
  return `${MONTH_NAMES[month - 1]}${withYear ? ` ${year}` : ""}`;
}

export class Dates {
  readonly year: string;
  constructor(now: Date) {
    this.year = now.toISOString().slice(0, 4);
  }

  day(date: string): string {
    return formatDay(date, date.slice(0, 4) !== this.year);
  }

  /** "3 Mar – 24 Apr"; years when the range is not this year or spans two. */
  range(from: string, to: string): string {
    const years = from.slice(0, 4) !== to.slice(0, 4) || to.slice(0, 4) !== this.year;
    if (from.slice(0, 10) === to.slice(0, 10)) return formatDay(from, years);
    return `${formatDay(from, years)} – ${formatDay(to, years)}`;
  }

  bucket(bucket: string, granularity: "day" | "week" | "month"): string {
    const withYear = bucket.slice(0, 4) !== this.year;
    if (granularity === "month") return formatMonth(bucket, withYear);
    if (granularity === "week") return `the week of ${formatDay(bucket, withYear)}`;
    return formatDay(bucket, withYear);
  }

  /** The period in words, saying where it came from when the prompt named none. */
  period(period: Period, campaign: boolean): string {
    const { from, to } = period;
    if (period.basis === "default_window" && from && to) {
      return `over the last ${period.window_days} days (${this.range(from, to)}), ` +
        `since you didn't name a period`;
    }
    if (period.basis === "lifetime") {
      if (from && to) return `over its lifetime, ${this.range(from, to)}`;
      return campaign ? "over its lifetime" : "over all time (you didn't name a period)";
    }
    if (from && to) {
      return from.slice(0, 10) === to.slice(0, 10)
        ? `on ${this.day(from)}`
        : `from ${this.day(from)} to ${this.day(to)}`;
    }
    if (from) return `since ${this.day(from)}`;
    if (to) return `until ${this.day(to)}`;
    return "over all time";
  }
}

export const PLATFORM_NAMES: Readonly<Record<Platform, string>> = {
  meta: "Meta",
  google: "Google",
  linkedin: "LinkedIn",
  tiktok: "TikTok",
};

export function platformName(platform: string): string {
  return PLATFORM_NAMES[platform as Platform] ?? platform;
}

export function platformList(platforms: readonly string[]): string {
  return list(platforms.map(platformName));
}

export function campaignLabel(
  name: string | null | undefined,
  id: string,
  platform?: string,
): string {
  const where = platform ? `, ${platformName(platform)}` : "";
  return name
    ? `${name} (${id}${where})`
    : `campaign ${id}${platform ? ` (${platformName(platform)})` : ""}`;
}

export function subjectText(subject: Subject): string {
  if (subject.type === "all") {
    return subject.platforms.length
      ? `your ${platformList(subject.platforms)} campaigns`
      : "all your campaigns across all platforms";
  }
  const label = campaignLabel(subject.campaign_name, subject.campaign_id);
  if (subject.via === "latest") {
    return `your latest ${platformList(subject.platforms)} campaign, ${label},`;
  }
  const on = subject.platforms.length ? ` on ${platformList(subject.platforms)}` : "";
  return `${label}${on}`;
}

/** subjectText without the trailing comma of an apposition, for the end of a clause. */
export function subjectEnd(subject: Subject): string {
  return subjectText(subject).replace(/,$/, "");
}

// ---------------------------------------------------------------------------------
// Totals
// ---------------------------------------------------------------------------------

export interface Valued {
  currency: string | null;
  value: number | null;
}

/** A metric's values in a response: one, or one per currency for money across currencies. */
export function valuesOf(view: TotalsView, metric: BotMetric): Valued[] {
  if (!isCurrencyBound(metric) || view.currency !== null || !view.by_currency?.length) {
    return [{ currency: view.currency, value: metricValue(view.totals, metric) }];
  }
  return view.by_currency.map((entry) => ({
    currency: entry.currency,
    value: metricValue(entry, metric),
  }));
}

export function valuesText(metric: BotMetric, values: readonly Valued[]): string {
  if (values.length === 1) return formatMetric(metric, values[0].value, values[0].currency);
  return list(values.map((v) => `${formatMetric(metric, v.value, v.currency)} in ${v.currency}`));
}

export function isEmpty(view: TotalsView): boolean {
  const all = [view.totals, ...(view.by_currency ?? [])];
  return all.every((t) =>
    t.impressions === 0 && t.clicks === 0 && t.conversions === 0 && !t.cost && !t.revenue
  );
}

export const CURRENCY_NOTE =
  "Amounts in different currencies are reported separately, never added up.";

export function spansCurrencies(view: TotalsView, metrics: readonly BotMetric[]): boolean {
  return view.currency === null && (view.by_currency?.length ?? 0) > 1 &&
    metrics.some(isCurrencyBound);
}
