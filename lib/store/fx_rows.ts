/**
 * The rows converted reads come back as: sums per (group, currency, day) with the rates
 * they need, and the packed form (one row per platform and currency, days and rates as
 * arrays) with the money already converted in SQL at direct rates, and the readers that
 * turn those rows back into values.
 */
import { z } from "zod";
import type { Params } from "./sql_queries.ts";
import { MAX_RATE_AGE_DAYS, type StoredRate } from "../fx/convert.ts";
import { MeasureSumsTextSchema } from "../kpi.ts";
import { MEASURES, PlatformSchema } from "../schema.ts";

/** Sums of one (platform[, campaign], currency, day); day null for target-currency rows. */
export const DayRowSchema = MeasureSumsTextSchema.extend({
  platform: PlatformSchema,
  campaign_id: z.string().nullable(),
  currency: z.string().transform((code) => code.trim()),
  day: z.string().nullable(),
});
export type DayRow = z.infer<typeof DayRowSchema>;

/** Per-day sums and every rate that converting them may use. */
export interface DaysAndRates {
  rows: DayRow[];
  /**
   * The tenant's rates of the pairs that touch the target or a currency of the rows with
   * a day (any path between two currencies has a leg touching each, so cross rates
   * through any third currency are found), over [first day - MAX_RATE_AGE_DAYS, last
   * day]; none when every row is in the target currency.
   */
  rates: StoredRate[];
}

/**
 * A row as the sums statements return it (their SQL casts every measure to text), typed
 * without a schema parse per row: the converted reads return hundreds of them, and the
 * parse cost more than their conversion. DayRowSchema describes the same shape.
 */
export function dayRowOf(row: Record<string, string | null>): DayRow {
  return {
    platform: row.platform as DayRow["platform"],
    campaign_id: row.campaign_id,
    currency: row.currency!.trim(),
    day: row.day,
    impressions: row.impressions!,
    clicks: row.clicks!,
    conversions: row.conversions!,
    cost: row.cost!,
    revenue: row.revenue!,
  };
}

/**
 * One statement for per-day sums and the rates they need: the sums (any statement whose
 * rows have platform, campaign_id, currency, day as text and the five measures as text),
 * then the rates of every pair touching the target or a currency whose money has a day,
 * over the days the conversion may look at (MAX_RATE_AGE_DAYS of carry-forward). Rows
 * already in the target read no rate at all. One round trip, one snapshot: the rates are
 * those committed when the sums were read.
 */
export function withNeededRates(
  sums: string,
  params: Params,
  tenantId: string,
  target: string,
): string {
  const targetParam = params.add(target);
  const tenant = params.add(tenantId);
  const empty = MEASURES.map(() => "NULL::text").join(", ");
  return `WITH sums AS MATERIALIZED (${sums}),
  needed AS (
    SELECT min(day)::date - ${MAX_RATE_AGE_DAYS} AS first, max(day)::date AS last,
           array_agg(DISTINCT currency::bpchar) || ${targetParam}::bpchar AS currencies
    FROM sums WHERE day IS NOT NULL AND currency <> ${targetParam})
  SELECT platform, campaign_id, currency, day, ${MEASURES.join(", ")},
         NULL::text AS base, NULL::text AS quote, NULL::text AS rate, NULL::text AS source
  FROM sums
  UNION ALL
  SELECT NULL, NULL, NULL, to_char(r.day, 'YYYY-MM-DD'), ${empty},
         r.base::text, r.quote::text, r.rate::text, r.source
  FROM needed n JOIN fx_rates r ON r.tenant_id = ${tenant}
    AND r.day BETWEEN n.first AND n.last
    AND (r.base = ANY(n.currencies) OR r.quote = ANY(n.currencies))`;
}

/** Splits withNeededRates' answer: rows with a base are rates, the others sums. */
export function daysAndRates(rows: readonly Record<string, string | null>[]): DaysAndRates {
  const days: DayRow[] = [];
  const rates: StoredRate[] = [];
  for (const row of rows) {
    if (row.base === null) days.push(dayRowOf(row));
    else {
      rates.push({
        base: row.base.trim(),
        quote: row.quote!.trim(),
        day: row.day!,
        rate: row.rate!,
        source: row.source!,
      });
    }
  }
  return { rows: days, rates };
}

/**
 * One source currency whose money the statement converted itself (see
 * convertedPlatformSums): the rates were that pair's direct ones, stored on days in
 * [firstDay, lastDay], from `source`.
 */
export interface DirectConversion {
  currency: string;
  firstDay: string;
  lastDay: string;
  source: string;
}

/** Sums partly converted by the statement, the per-day rows left, and their rates. */
export interface ConvertedSums extends DaysAndRates {
  /**
   * Rows in the target currency (day null unless every day was asked for) already hold
   * the money of `direct` converted exactly; the other rows have a day and need a rate.
   * `rates`: those the day rows may use (none when there are none).
   */
  direct: DirectConversion[];
}

/** Rows of `packed` tuples "day impressions clicks conversions cost revenue". */
function unpackDays(
  packed: string,
  platform: string,
  currency: string,
  into: DayRow[],
): void {
  for (const tuple of packed.split(",")) {
    const [day, impressions, clicks, conversions, cost, revenue] = tuple.split(" ");
    into.push({
      platform: platform as DayRow["platform"],
      campaign_id: null,
      currency,
      day: day === "-" ? null : day,
      impressions,
      clicks,
      conversions,
      cost,
      revenue,
    });
  }
}

/** A row of packed rates: base, quote, source and "day rate" tuples joined by ",". */
export function unpackRates(row: Record<string, string | null>, into: StoredRate[]): void {
  const base = row.base!.trim();
  const quote = row.quote!.trim();
  for (const tuple of row.packed!.split(",")) {
    const [day, rate] = tuple.split(" ");
    into.push({ base, quote, day, rate, source: row.source! });
  }
}

/** Reads directlyConvertedSql's packed answer. */
export function unpackConverted(
  answer: readonly Record<string, string | null>[],
  target: string,
): ConvertedSums {
  const rows: DayRow[] = [];
  const rates: StoredRate[] = [];
  const direct: DirectConversion[] = [];
  for (const row of answer) {
    if (row.kind === "rates") {
      unpackRates(row, rates);
      continue;
    }
    const currency = row.currency!.trim();
    if (row.kind === "days") {
      unpackDays(row.packed!, row.platform!, currency, rows);
      continue;
    }
    // "sums": in the target already (converted at direct rates when from another currency).
    unpackDays(row.packed!, row.platform!, target, rows);
    if (currency !== target) {
      direct.push({
        currency,
        firstDay: row.first_day!,
        lastDay: row.last_day!,
        source: row.source!,
      });
    }
  }
  return { rows, rates, direct };
}
