/**
 * KPI math. Every ratio is a ratio of sums (total clicks / total impressions), never
 * an average of per-row ratios, and a zero denominator yields `null`: a campaign
 * without impressions has no CTR, it does not have a CTR of 0, NaN or Infinity.
 */
import { z } from "zod";
import { roundDecimal, sumDecimals } from "./decimal.ts";

type Quantity = number | string | bigint;

export interface MeasureSums {
  impressions: Quantity;
  clicks: Quantity;
  conversions: Quantity;
  cost: Quantity;
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
export type Ratios = z.infer<typeof RatiosSchema>;

function toNumber(value: Quantity): number {
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(number)) throw new RangeError(`not a finite quantity: ${value}`);
  return number;
}

/** numerator / denominator, or null when the denominator is zero. */
export function ratio(numerator: Quantity, denominator: Quantity): number | null {
  const bottom = toNumber(denominator);
  if (bottom === 0) return null;
  return toNumber(numerator) / bottom;
}

/** A KPI that is a ratio of two sums, times a scale (CPM is per thousand impressions). */
export interface RatioDefinition {
  readonly numerator: keyof MeasureSums;
  readonly denominator: keyof MeasureSums;
  readonly scale: number;
}

/** How each KPI is computed: the one place the formulas live (the bot explains them from here). */
export const RATIO_DEFINITIONS: Readonly<Record<keyof Ratios, RatioDefinition>> = {
  ctr: { numerator: "clicks", denominator: "impressions", scale: 1 },
  roas: { numerator: "revenue", denominator: "cost", scale: 1 },
  cpa: { numerator: "cost", denominator: "conversions", scale: 1 },
  cpc: { numerator: "cost", denominator: "clicks", scale: 1 },
  cpm: { numerator: "cost", denominator: "impressions", scale: 1000 },
  cvr: { numerator: "conversions", denominator: "clicks", scale: 1 },
};

/** The derived KPIs of a set of sums. Inputs are exact sums; outputs are unrounded. */
export function computeMetrics(sums: MeasureSums): Ratios {
  const value = ({ numerator, denominator, scale }: RatioDefinition) => {
    const quotient = ratio(sums[numerator], sums[denominator]);
    return quotient === null ? null : quotient * scale;
  };
  return {
    ctr: value(RATIO_DEFINITIONS.ctr),
    roas: value(RATIO_DEFINITIONS.roas),
    cpa: value(RATIO_DEFINITIONS.cpa),
    cpc: value(RATIO_DEFINITIONS.cpc),
    cpm: value(RATIO_DEFINITIONS.cpm),
    cvr: value(RATIO_DEFINITIONS.cvr),
  };
}

/** Fraction digits of a currency's minor unit (USD 2, JPY 0, BHD 3), from the platform's ICU data. */
export function minorUnitDigits(currency: string): number {
  const format = new Intl.NumberFormat("en", { style: "currency", currency });
  return format.resolvedOptions().maximumFractionDigits ?? 2;
}

/** An exact decimal amount rounded to the currency's minor unit, as a JSON-ready number. */
export function roundMoney(amount: string, currency: string): number {
  return Number(roundDecimal(amount, minorUnitDigits(currency)));
}

const RATIO_DIGITS = 6;

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
export type Totals = z.infer<typeof TotalsSchema>;

const CONVERSION_DIGITS = 6;

/**
 * Totals as the API reports them. `currency` null means the sums span several
 * currencies: counts still add up, but money and the money-based KPIs do not.
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
    ctr: roundRatio(ratios.ctr),
    roas: money ? roundRatio(ratios.roas) : null,
    cpa: money ? roundRatio(ratios.cpa) : null,
    cpc: money ? roundRatio(ratios.cpc) : null,
    cpm: money ? roundRatio(ratios.cpm) : null,
    cvr: roundRatio(ratios.cvr),
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
export type MeasureSumsText = z.infer<typeof MeasureSumsTextSchema>;

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
  totals: Totals;
  /** Present only when several currencies are involved: each one's own totals. */
  by_currency?: (Totals & { currency: string })[];
}

/**
 * Folds sums of several currencies into one report: counts and conversions add up
 * exactly; money only when a single currency is involved. No rows gives zeros (and
 * null ratios) in `fallbackCurrency`.
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

/** Exact sums of sums of ONE currency (BigInt counts, decimal strings). */
export function combineSums(rows: readonly MeasureSumsText[]): MeasureSumsText {
  return {
    ...combineCounts(rows),
    cost: sumDecimals(rows.map((row) => row.cost)),
    revenue: sumDecimals(rows.map((row) => row.revenue)),
  };
}

/** The measures of a set of totals and the KPIs derived from them, by their API names. */
export const MEASURES = [
  "impressions",
  "clicks",
  "conversions",
  "cost",
  "revenue",
  "ctr",
  "roas",
  "cpa",
  "cpc",
  "cpm",
  "cvr",
] as const;
export type Measure = typeof MEASURES[number];

/** Amounts in a currency: never summed or compared across currencies. */
export const MONEY_MEASURES: ReadonlySet<Measure> = new Set([
  "cost",
  "revenue",
  "cpa",
  "cpc",
  "cpm",
]);

/** Measures where less is better (they are prices): "best" sorts them ascending. */
export const LOWER_IS_BETTER: ReadonlySet<Measure> = new Set(["cost", "cpa", "cpc", "cpm"]);

/** Whole counts of events. */
export const COUNT_MEASURES: ReadonlySet<Measure> = new Set([
  "impressions",
  "clicks",
  "conversions",
]);

/** Money amounts and ratios of them (ROAS): only meaningful within one currency. */
export const CURRENCY_BOUND_MEASURES: ReadonlySet<Measure> = new Set([...MONEY_MEASURES, "roas"]);

/** The price of one of each count: cost per click, per conversion, per thousand impressions. */
export const PRICE_OF_COUNT = {
  impressions: "cpm",
  clicks: "cpc",
  conversions: "cpa",
} as const satisfies Readonly<Record<string, Measure>>;

/** What a measure is, in words, for people who ask ("what is ROAS?"). */
export const MEASURE_DESCRIPTIONS: Readonly<Record<Measure, { name: string; meaning: string }>> = {
  impressions: { name: "impressions", meaning: "how many times the ads were shown" },
  clicks: { name: "clicks", meaning: "how many times the ads were clicked" },
  conversions: {
    name: "conversions",
    meaning: "the actions the platforms count as results (purchases, leads, sign-ups)",
  },
  cost: { name: "spend", meaning: "what the ads cost, in the account's currency" },
  revenue: { name: "revenue", meaning: "the value of the conversions the platforms report" },
  ctr: { name: "click-through rate (CTR)", meaning: "the share of impressions that got a click" },
  roas: {
    name: "return on ad spend (ROAS)",
    meaning: "the revenue each unit of spend brought back",
  },
  cpa: { name: "cost per acquisition (CPA)", meaning: "what one conversion cost" },
  cpc: { name: "cost per click (CPC)", meaning: "what one click cost" },
  cpm: { name: "cost per mille (CPM)", meaning: "what a thousand impressions cost" },
  cvr: { name: "conversion rate (CVR)", meaning: "the share of clicks that became a conversion" },
};

/** The facts the bot's definitions are built from: formula, when it is null, its direction. */
export interface MeasureFacts {
  readonly measure: Measure;
  readonly name: string;
  readonly meaning: string;
  /** The ratio, for derived KPIs; null for summed measures. */
  readonly ratio: RatioDefinition | null;
  /** The summed measure whose zero leaves the KPI undefined (null), if any. */
  readonly nullWhenZero: keyof MeasureSums | null;
  readonly higherIsBetter: boolean;
  readonly money: boolean;
}

export function measureFacts(measure: Measure): MeasureFacts {
  const ratio = measure in RATIO_DEFINITIONS ? RATIO_DEFINITIONS[measure as keyof Ratios] : null;
  return {
    measure,
    ...MEASURE_DESCRIPTIONS[measure],
    ratio,
    nullWhenZero: ratio ? ratio.denominator : null,
    higherIsBetter: !LOWER_IS_BETTER.has(measure),
    money: MONEY_MEASURES.has(measure),
  };
}
