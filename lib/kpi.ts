/**
 * KPI math. Every ratio is a ratio of sums (total clicks / total impressions), never
 * an average of per-row ratios, and a zero denominator yields `null`: a campaign
 * without impressions has no CTR, it does not have a CTR of 0, NaN or Infinity.
 */
import { z } from "zod";
import { roundDecimal, sumDecimals } from "./decimal.ts";
import type { MetricName } from "./schema.ts";

/** A count or amount: a number, exact decimal text, or a bigint. */
export type Quantity = number | string | bigint;

/** Sums of the additive measures over some rows, all in one currency. */
export interface MeasureSums {
  /** Times an ad was shown. */
  impressions: Quantity;
  /** Clicks on an ad. */
  clicks: Quantity;
  /** Conversions the platform attributed (may be fractional). */
  conversions: Quantity;
  /** Money spent. */
  cost: Quantity;
  /** Conversion value the platform reported. */
  revenue: Quantity;
}

export const RatiosSchema = z.object({
  ctr: z.number().nullable(),
  roas: z.number().nullable(),
  cpa: z.number().nullable(),
  cpc: z.number().nullable(),
  cpm: z.number().nullable(),
  cvr: z.number().nullable(),
});
/** The KPIs, each a ratio of sums; null where the denominator is zero. */
export type Ratios = {
  /** Click-through rate: clicks / impressions. */
  ctr: number | null;
  /** Return on ad spend: revenue / cost. */
  roas: number | null;
  /** Cost per acquisition: cost / conversions. */
  cpa: number | null;
  /** Cost per click: cost / clicks. */
  cpc: number | null;
  /** Cost per mille: cost / impressions × 1000. */
  cpm: number | null;
  /** Conversion rate: conversions / clicks. */
  cvr: number | null;
};

function toNumber(value: Quantity): number {
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(number)) throw new RangeError(`not a finite quantity: ${value}`);
  return number;
}

/**
 * numerator / denominator, or null when the denominator is zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ratio } from "@campaign-analytics/core";
 *
 * assert.equal(ratio(25, 1000), 0.025);
 * assert.equal(ratio(5, 0), null);
 * ```
 */
export function ratio(numerator: Quantity, denominator: Quantity): number | null {
  const bottom = toNumber(denominator);
  if (bottom === 0) return null;
  return toNumber(numerator) / bottom;
}

/** Decimal places of every reported ratio. */
const RATIO_DIGITS = 6;

/** A base measure: what the rows carry and every KPI is computed from. */
export interface MeasureDefinition {
  description: string;
  /** Money is in the row's currency; sums of different currencies are never added. */
  money: boolean;
}

export const MEASURE_DEFINITIONS: Readonly<Record<keyof MeasureSums, MeasureDefinition>> = {
  impressions: { description: "times an ad was shown", money: false },
  clicks: { description: "clicks on an ad", money: false },
  conversions: {
    description: "conversions the platform attributed (may be fractional)",
    money: false,
  },
  cost: { description: "money spent", money: true },
  revenue: { description: "conversion value the platform reported", money: true },
};

/**
 * A derived KPI: `numerator / denominator * scale`, each a sum over the selected rows.
 * The one definition computeMetrics evaluates and the API documents.
 */
export interface KpiDefinition {
  name: string;
  numerator: keyof MeasureSums;
  denominator: keyof MeasureSums;
  scale: number;
  /** A money-based KPI is null when the sums span several currencies. */
  money: boolean;
}

export const KPI_DEFINITIONS: Readonly<Record<keyof Ratios, KpiDefinition>> = {
  ctr: {
    name: "click-through rate",
    numerator: "clicks",
    denominator: "impressions",
    scale: 1,
    money: false,
  },
  roas: {
    name: "return on ad spend",
    numerator: "revenue",
    denominator: "cost",
    scale: 1,
    money: true,
  },
  cpa: {
    name: "cost per acquisition (conversion)",
    numerator: "cost",
    denominator: "conversions",
    scale: 1,
    money: true,
  },
  cpc: { name: "cost per click", numerator: "cost", denominator: "clicks", scale: 1, money: true },
  cpm: {
    name: "cost per thousand impressions",
    numerator: "cost",
    denominator: "impressions",
    scale: 1000,
    money: true,
  },
  cvr: {
    name: "conversion rate",
    numerator: "conversions",
    denominator: "clicks",
    scale: 1,
    money: false,
  },
};

/** The rules every KPI follows, in words (for API and agent documentation). */
export const KPI_RULES: readonly string[] = [
  "Every KPI is a ratio of sums over the selected rows (total clicks / total impressions), " +
  "never an average of per-row or per-day ratios.",
  "A zero denominator gives null: a campaign without impressions has no CTR (not 0).",
  "Money (cost, revenue) is never added across currencies: when the rows span several " +
  "currencies, currency is null, cost, revenue and the money-based KPIs (roas, cpa, cpc, cpm) " +
  "are null, and by_currency holds each currency's own totals.",
  `Ratios are rounded to ${RATIO_DIGITS} decimal places; money to the currency's minor unit ` +
  "(USD 2 digits, JPY 0); counts are exact.",
];

const KPI_NAMES = Object.keys(KPI_DEFINITIONS) as (keyof Ratios)[];

/**
 * The derived KPIs of a set of sums. Inputs are exact sums; outputs are unrounded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { computeMetrics } from "@campaign-analytics/core";
 *
 * const kpis = computeMetrics({
 *   impressions: 1000, clicks: 25, conversions: 2, cost: "50.00", revenue: "200.00",
 * });
 * assert.deepEqual(kpis, { ctr: 0.025, roas: 4, cpa: 25, cpc: 2, cpm: 50, cvr: 0.08 });
 * ```
 */
export function computeMetrics(sums: MeasureSums): Ratios {
  const ratios = {} as Ratios;
  for (const kpi of KPI_NAMES) {
    const { numerator, denominator, scale } = KPI_DEFINITIONS[kpi];
    const value = ratio(sums[numerator], sums[denominator]);
    ratios[kpi] = value === null ? null : value * scale;
  }
  return ratios;
}

/**
 * Fraction digits of a currency's minor unit (USD 2, JPY 0, BHD 3), from the platform's ICU data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { minorUnitDigits } from "@campaign-analytics/core";
 *
 * assert.equal(minorUnitDigits("USD"), 2);
 * assert.equal(minorUnitDigits("JPY"), 0);
 * ```
 */
export function minorUnitDigits(currency: string): number {
  const format = new Intl.NumberFormat("en", { style: "currency", currency });
  return format.resolvedOptions().maximumFractionDigits ?? 2;
}

/**
 * An exact decimal amount rounded to the currency's minor unit, as a JSON-ready number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roundMoney } from "@campaign-analytics/core";
 *
 * assert.equal(roundMoney("10.005", "USD"), 10.01);
 * assert.equal(roundMoney("1234.5", "JPY"), 1235);
 * ```
 */
export function roundMoney(amount: string, currency: string): number {
  return Number(roundDecimal(amount, minorUnitDigits(currency)));
}

/** Ratios are reported to six decimal places: finer than any dashboard shows, stable in JSON. */
export function roundRatio(value: number | null): number | null {
  if (value === null) return null;
  return Number(value.toFixed(RATIO_DIGITS));
}

/** The public shape of a set of totals: exact sums rounded for output, plus the KPIs. */
export const TotalsSchema = z.object({
  impressions: z.number(),
  clicks: z.number(),
  conversions: z.number(),
  cost: z.number().nullable(),
  revenue: z.number().nullable(),
  ...RatiosSchema.shape,
});
/** Totals as reported: sums rounded for output plus the KPIs. */
export type Totals = Ratios & {
  /** Times an ad was shown. */
  impressions: number;
  /** Clicks. */
  clicks: number;
  /** Conversions, to six decimal places. */
  conversions: number;
  /** Money spent, rounded to the currency's minor unit; null across several currencies. */
  cost: number | null;
  /** Conversion value, rounded likewise; null across several currencies. */
  revenue: number | null;
};

const CONVERSION_DIGITS = 6;

/**
 * Totals as the API reports them. `currency` null means the sums span several
 * currencies: counts still add up, but money and the money-based KPIs do not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { presentTotals } from "@campaign-analytics/core";
 *
 * const sums = { impressions: "1000", clicks: "25", conversions: "2", cost: "50.004", revenue: "0" };
 * const totals = presentTotals(sums, "USD");
 * assert.equal(totals.cost, 50);
 * assert.equal(totals.roas, 0);
 * assert.equal(presentTotals(sums, null).cost, null); // several currencies: no money
 * ```
 */
export function presentTotals(sums: MeasureSumsText, currency: string | null): Totals {
  const ratios = computeMetrics(sums);
  const money = currency !== null;
  return {
    impressions: Number(sums.impressions),
    clicks: Number(sums.clicks),
    conversions: Number(roundDecimal(sums.conversions, CONVERSION_DIGITS)),
    cost: money ? roundMoney(sums.cost, currency) : null,
    revenue: money ? roundMoney(sums.revenue, currency) : null,
    ...Object.fromEntries(
      KPI_NAMES.map((kpi) => [
        kpi,
        money || !KPI_DEFINITIONS[kpi].money ? roundRatio(ratios[kpi]) : null,
      ]),
    ) as Ratios,
  };
}

/** Exact sums as the store returns them: decimal strings, never floats. */
export const MeasureSumsTextSchema = z.object({
  impressions: z.string(),
  clicks: z.string(),
  conversions: z.string(),
  cost: z.string(),
  revenue: z.string(),
});
/** Exact sums as the store returns them: integer and decimal text, never floats. */
export interface MeasureSumsText {
  /** Times an ad was shown (integer text). */
  impressions: string;
  /** Clicks (integer text). */
  clicks: string;
  /** Conversions (decimal text). */
  conversions: string;
  /** Money spent (decimal text). */
  cost: string;
  /** Conversion value (decimal text). */
  revenue: string;
}

export const ZERO_SUMS: MeasureSumsText = {
  impressions: "0",
  clicks: "0",
  conversions: "0",
  cost: "0",
  revenue: "0",
};

/** Per-currency exact sums folded into one report line. */
export interface CurrencyReport {
  /** The one currency of the money fields, or null when the sums span several. */
  currency: string | null;
  /** The totals: money included only when there is one currency. */
  totals: Totals;
  /** Present only when several currencies are involved: each one's own totals. */
  by_currency?: (Totals & { currency: string })[];
}

/**
 * Folds sums of several currencies into one report: counts and conversions add up
 * exactly; money only when a single currency is involved. No rows gives zeros (and
 * null ratios) in `fallbackCurrency`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportCurrencies } from "@campaign-analytics/core";
 *
 * const zero = { conversions: "0", revenue: "0" };
 * const report = reportCurrencies([
 *   { ...zero, impressions: "100", clicks: "5", cost: "10.00", currency: "USD" },
 *   { ...zero, impressions: "300", clicks: "7", cost: "20.00", currency: "EUR" },
 * ]);
 * assert.equal(report.currency, null);
 * assert.equal(report.totals.clicks, 12);
 * assert.equal(report.totals.cost, null); // never USD + EUR
 * assert.deepEqual(report.by_currency?.map((line) => [line.currency, line.cost]), [
 *   ["USD", 10],
 *   ["EUR", 20],
 * ]);
 * ```
 */
export function reportCurrencies(
  rows: readonly (MeasureSumsText & { currency: string })[],
  fallbackCurrency: string | null = null,
): CurrencyReport {
  if (rows.length === 0) {
    // Nothing spent is zero in any currency; every ratio has a zero denominator.
    return {
      currency: fallbackCurrency,
      totals: { ...presentTotals(ZERO_SUMS, null), cost: 0, revenue: 0 },
    };
  }
  const currencies = [...new Set(rows.map((row) => row.currency))];
  if (currencies.length === 1) {
    return { currency: currencies[0], totals: presentTotals(combineSums(rows), currencies[0]) };
  }
  return {
    currency: null,
    // Money of different currencies is never added: only the counts are combined.
    totals: presentTotals({ ...combineCounts(rows), cost: "0", revenue: "0" }, null),
    by_currency: currencies.map((currency) => ({
      currency,
      ...presentTotals(combineSums(rows.filter((row) => row.currency === currency)), currency),
    })),
  };
}

function combineCounts(rows: readonly MeasureSumsText[]) {
  return {
    impressions: rows.reduce((sum, row) => sum + BigInt(row.impressions), 0n).toString(),
    clicks: rows.reduce((sum, row) => sum + BigInt(row.clicks), 0n).toString(),
    conversions: sumDecimals(rows.map((row) => row.conversions)),
  };
}

/**
 * Exact sums of sums of ONE currency (BigInt counts, decimal strings).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { combineSums } from "@campaign-analytics/core";
 *
 * const day = { impressions: "9007199254740993", clicks: "1", conversions: "0.1", cost: "0.10", revenue: "0" };
 * const sums = combineSums([day, { ...day, conversions: "0.2", cost: "0.20" }]);
 * assert.equal(sums.impressions, "18014398509481986"); // exact beyond 2^53
 * assert.equal(sums.conversions, "0.3"); // no float error
 * assert.equal(sums.cost, "0.30");
 * ```
 */
export function combineSums(rows: readonly MeasureSumsText[]): MeasureSumsText {
  return {
    ...combineCounts(rows),
    cost: sumDecimals(rows.map((row) => row.cost)),
    revenue: sumDecimals(rows.map((row) => row.revenue)),
  };
}

/** Amounts in a currency: never summed or compared across currencies. */
export const MONEY_MEASURES: ReadonlySet<MetricName> = new Set([
  "cost",
  "revenue",
  "cpa",
  "cpc",
  "cpm",
]);

/** Measures where less is better (they are prices): "best" sorts them ascending. */
export const LOWER_IS_BETTER: ReadonlySet<MetricName> = new Set(["cost", "cpa", "cpc", "cpm"]);

/** Whole counts of events. */
export const COUNT_MEASURES: ReadonlySet<MetricName> = new Set([
  "impressions",
  "clicks",
  "conversions",
]);

/** Money amounts and ratios of them (ROAS): only meaningful within one currency. */
export const CURRENCY_BOUND_MEASURES: ReadonlySet<MetricName> = new Set([
  ...MONEY_MEASURES,
  "roas",
]);

/** The price of one of each count: cost per click, per conversion, per thousand impressions. */
export const PRICE_OF_COUNT = {
  impressions: "cpm",
  clicks: "cpc",
  conversions: "cpa",
} as const satisfies Readonly<Record<string, MetricName>>;

/** What each KPI tells, in words, for people who ask ("what is ROAS?"). */
export const KPI_MEANINGS: Readonly<Record<keyof Ratios, string>> = {
  ctr: "the share of impressions that got a click",
  roas: "the revenue each unit of spend brought back",
  cpa: "what one conversion cost",
  cpc: "what one click cost",
  cpm: "what a thousand impressions cost",
  cvr: "the share of clicks that became a conversion",
};

/** The facts a definition is built from: formula, when it is null, its direction. */
export interface MeasureFacts {
  readonly measure: MetricName;
  readonly name: string;
  readonly meaning: string;
  /** The ratio, for derived KPIs; null for summed measures. */
  readonly ratio: Pick<KpiDefinition, "numerator" | "denominator" | "scale"> | null;
  /** The summed measure whose zero leaves the KPI undefined (null), if any. */
  readonly nullWhenZero: keyof MeasureSums | null;
  readonly higherIsBetter: boolean;
  readonly money: boolean;
}

export function measureFacts(measure: MetricName): MeasureFacts {
  const direction = { higherIsBetter: !LOWER_IS_BETTER.has(measure) };
  if (measure in KPI_DEFINITIONS) {
    const kpi = KPI_DEFINITIONS[measure as keyof Ratios];
    return {
      measure,
      name: `${kpi.name} (${measure.toUpperCase()})`,
      meaning: KPI_MEANINGS[measure as keyof Ratios],
      ratio: { numerator: kpi.numerator, denominator: kpi.denominator, scale: kpi.scale },
      nullWhenZero: kpi.denominator,
      money: kpi.money,
      ...direction,
    };
  }
  const base = MEASURE_DEFINITIONS[measure as keyof MeasureSums];
  return {
    measure,
    name: measure === "cost" ? "spend" : measure,
    meaning: base.description,
    ratio: null,
    nullWhenZero: null,
    money: base.money,
    ...direction,
  };
}
