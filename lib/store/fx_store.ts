/**
 * Exchange rates per tenant (table fx_rates) and the per-day sums that conversion
 * needs. Money converts at the rate of its calendar day in the query's zone, so the
 * store answers "sums per (group, currency, day)": from the hourly platform rollup for
 * whole-hour zones (plus raw edges), from the raw rows otherwise. Rows already in the
 * target currency need no rate, so they are not split by day (and per-campaign answers
 * read them from the monthly rollup as unconverted answers do).
 */
import { z } from "zod";
import type { SqlDriver } from "./driver.ts";
import { type RankOptions, type Selection, SelectionSchema } from "./metrics_store.ts";
import {
  asIs,
  isOneWholeMonth,
  isWholeHourZone,
  metricSql,
  oneMonthFilters,
  Params,
  planRange,
  planZoneDays,
  type RangePart,
  summed,
  unionOf,
} from "./sql_queries.ts";
import type { MetricName } from "../schema.ts";
import { type FxRate, type StoredFxRate, StoredFxRateSchema } from "../fx/rates.ts";
import type { StoredRate } from "../fx/convert.ts";
import { MeasureSumsTextSchema } from "../kpi.ts";
import { PlatformSchema } from "../schema.ts";

/** Sums of one (platform[, campaign], currency, day); day null for target-currency rows. */
export const DayRowSchema = MeasureSumsTextSchema.extend({
  platform: PlatformSchema,
  campaign_id: z.string().nullable(),
  currency: z.string().transform((code) => code.trim()),
  day: z.string().nullable(),
});
export type DayRow = z.infer<typeof DayRowSchema>;

/** What one unit of `currency` on `day` is worth in the target (decimal text). */
export interface CurrencyDayFactor {
  currency: string;
  day: string;
  factor: string;
}

export interface RateFilter {
  base?: string;
  quote?: string;
  /** Inclusive calendar days. */
  from?: string;
  to?: string;
  limit?: number;
}

export interface FxStore {
  /** Stores rates (a new value for the same tenant, day and pair replaces the old one). */
  upsertRates(tenantId: string, rates: readonly FxRate[], source: string): Promise<number>;
  listRates(tenantId: string, filter?: RateFilter): Promise<StoredFxRate[]>;
  /** Every rate of the tenant on days in [from, to] (open bounds: unbounded). */
  ratesBetween(tenantId: string, from?: string, to?: string): Promise<StoredRate[]>;
  /** Per platform, currency and day; `everyDay` also splits target-currency rows by day. */
  platformDays(
    selection: Selection,
    timeZone: string,
    target: string,
    everyDay: boolean,
  ): Promise<DayRow[]>;
  /**
   * Per platform, campaign, currency and day (day null for target-currency rows).
   * `currencies`: the other currencies with money in the selection, when known (they
   * are then read by currency; an empty list reads none).
   */
  campaignDays(
    selection: Selection,
    timeZone: string,
    target: string,
    currencies?: readonly string[],
  ): Promise<DayRow[]>;
  /** Lifetime rows of these campaigns not in `target`, per day. */
  campaignLifetimeDays(
    tenantId: string,
    campaigns: readonly { platform: string; campaign_id: string }[],
    timeZone: string,
    target: string,
  ): Promise<DayRow[]>;
  /**
   * The campaigns that rank first by a metric of their converted sums, converting each
   * (currency, day) with `factors` (close decimal approximations: they only order).
   */
  rankCampaigns(
    selection: Selection,
    timeZone: string,
    target: string,
    factors: readonly CurrencyDayFactor[],
    options: Omit<RankOptions, "groupBy">,
  ): Promise<{ platform: string; campaign_id: string }[]>;
  /** Catalog names of these campaigns (absent: unknown or unnamed). */
  campaignNames(
    tenantId: string,
    campaigns: readonly { platform: string; campaign_id: string }[],
  ): Promise<Map<string, string>>;
}

const SUMS = `sum(impressions)::text AS impressions, sum(clicks)::text AS clicks,
  sum(conversions)::text AS conversions, sum(cost)::text AS cost, sum(revenue)::text AS revenue`;
const MEASURES = "impressions, clicks, conversions, cost, revenue";
const SUMS_RAW = `sum(impressions) AS impressions, sum(clicks) AS clicks,
  sum(conversions) AS conversions, sum(cost) AS cost, sum(revenue) AS revenue`;
const SUMS_OF_SUMS = `impressions::text AS impressions, clicks::text AS clicks,
  conversions::text AS conversions, cost::text AS cost, revenue::text AS revenue`;
const MONEY = new Set(["cost", "revenue"]);

/** The measures a ranking metric is computed from (a ranking sums only those). */
function metricColumns(metric: MetricName): string[] {
  switch (metric) {
    case "ctr":
      return ["clicks", "impressions"];
    case "roas":
      return ["revenue", "cost"];
    case "cpa":
      return ["cost", "conversions"];
    case "cpc":
      return ["cost", "clicks"];
    case "cpm":
      return ["cost", "impressions"];
    case "cvr":
      return ["conversions", "clicks"];
    default:
      return [metric];
  }
}

/**
 * Money in the currencies other than the target: `currency = ANY(list)` when the list
 * is known (one index range per currency, sql/008), else `<> target`. char(3) array:
 * a text array would compare as text and leave the index unused.
 */
function foreignFilter(target: string, currencies?: readonly string[]) {
  return (params: Params) => [
    currencies
      ? `currency = ANY(${params.add(currencies)}::bpchar[])`
      : `currency <> ${params.add(target)}`,
  ];
}

const UPSERT_RATES_SQL = `
INSERT INTO fx_rates AS r (tenant_id, base, quote, day, rate, source)
SELECT DISTINCT ON (base, quote, day) $1, base, quote, day, rate, $6
FROM unnest($2::text[], $3::text[], $4::date[], $5::numeric[]) WITH ORDINALITY
     AS i(base, quote, day, rate, ord)
ORDER BY base, quote, day, ord DESC
ON CONFLICT (tenant_id, base, quote, day) DO UPDATE SET
  rate = EXCLUDED.rate, source = EXCLUDED.source, updated_at = now()`;

export class SqlFxStore implements FxStore {
  constructor(private readonly db: SqlDriver) {}

  async upsertRates(tenantId: string, rates: readonly FxRate[], source: string): Promise<number> {
    if (rates.length === 0) return 0;
    await this.db.query(UPSERT_RATES_SQL, [
      tenantId,
      rates.map((rate) => rate.base),
      rates.map((rate) => rate.quote),
      rates.map((rate) => rate.day),
      rates.map((rate) => rate.rate),
      source,
    ]);
    return rates.length;
  }

  async listRates(tenantId: string, filter: RateFilter = {}): Promise<StoredFxRate[]> {
    const params = new Params();
    const filters = [`tenant_id = ${params.add(tenantId)}`];
    if (filter.base) filters.push(`base = ${params.add(filter.base)}`);
    if (filter.quote) filters.push(`quote = ${params.add(filter.quote)}`);
    if (filter.from) filters.push(`day >= ${params.add(filter.from, "::date")}`);
    if (filter.to) filters.push(`day <= ${params.add(filter.to, "::date")}`);
    const rows = await this.db.query<Record<string, string>>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS date, base, quote, rate::text AS rate, source
       FROM fx_rates WHERE ${filters.join(" AND ")}
       ORDER BY day, base, quote LIMIT ${params.add(filter.limit ?? 10_000, "::int")}`,
      params.values,
    );
    return rows.map((row) =>
      StoredFxRateSchema.parse({ ...row, base: row.base.trim(), quote: row.quote.trim() })
    );
  }

  async ratesBetween(tenantId: string, from?: string, to?: string): Promise<StoredRate[]> {
    const params = new Params();
    const filters = [`tenant_id = ${params.add(tenantId)}`];
    if (from) filters.push(`day >= ${params.add(from, "::date")}`);
    if (to) filters.push(`day <= ${params.add(to, "::date")}`);
    const rows = await this.db.query<Record<string, string>>(
      `SELECT base, quote, to_char(day, 'YYYY-MM-DD') AS day, rate::text AS rate, source
       FROM fx_rates WHERE ${filters.join(" AND ")}`,
      params.values,
    );
    return rows.map((row) => ({
      base: row.base.trim(),
      quote: row.quote.trim(),
      day: row.day,
      rate: row.rate,
      source: row.source,
    }));
  }

  async platformDays(
    selection: Selection,
    timeZone: string,
    target: string,
    everyDay: boolean,
  ): Promise<DayRow[]> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    const hourly = where.campaignIds.length === 0 &&
      isWholeHourZone(timeZone, where.from, where.to);
    const parts: RangePart[] = hourly
      ? planRange(where.from, where.to, { grain: "platform" })
      : [{ source: "raw", from: where.from, to: where.to }];
    const union = unionOf(parts, where, params, timeZone);
    const day = everyDay
      ? "at::date"
      : `CASE WHEN currency = ${params.add(target)} THEN NULL ELSE at::date END`;
    // Grouped by date, formatted once per group (to_char per row costs more than the sums).
    const rows = await this.db.query(
      `SELECT platform, NULL AS campaign_id, currency, to_char(day, 'YYYY-MM-DD') AS day,
              ${SUMS_OF_SUMS}
       FROM (SELECT platform, currency, ${day} AS day, ${SUMS_RAW}
             FROM (${union}) parts GROUP BY 1, 2, 3) grouped
       ORDER BY grouped.day NULLS FIRST, currency COLLATE "C", platform COLLATE "C"`,
      params.values,
    );
    return rows.map((row) => DayRowSchema.parse(row));
  }

  async campaignDays(
    selection: Selection,
    timeZone: string,
    target: string,
    currencies?: readonly string[],
  ): Promise<DayRow[]> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    const shape = { grain: "campaign", campaignFilter: where.campaignIds.length > 0 } as const;
    // Target-currency money needs no rate: the parts an unconverted read takes (rollups,
    // raw edges; a campaign filter: its months from the monthly rollup, the rest by
    // primary key). Other currencies per day of the zone (planZoneDays).
    const same = unionOf(
      planRange(where.from, where.to, shape),
      where,
      params,
      timeZone,
      (p) => [`currency = ${p.add(target)}`],
    );
    const other = currencies?.length === 0 ? "" : unionOf(
      planZoneDays(where.from, where.to, timeZone, shape),
      where,
      params,
      timeZone,
      foreignFilter(target, currencies),
    );
    const sql = `SELECT platform, campaign_id, currency, NULL::text AS day, ${SUMS}
        FROM (${same}) same_currency GROUP BY 1, 2, 3${
      other
        ? `
        UNION ALL
        SELECT platform, campaign_id, currency, to_char(day, 'YYYY-MM-DD') AS day,
               ${SUMS_OF_SUMS}
        FROM (SELECT platform, campaign_id, currency, at::date AS day, ${SUMS_RAW}
              FROM (${other}) other_currencies GROUP BY 1, 2, 3, 4) per_day`
        : ""
    }`;
    const rows = await this.db.query(sql, params.values);
    return rows.map((row) => DayRowSchema.parse(row));
  }

  async campaignLifetimeDays(
    tenantId: string,
    campaigns: readonly { platform: string; campaign_id: string }[],
    timeZone: string,
    target: string,
  ): Promise<DayRow[]> {
    if (campaigns.length === 0) return [];
    const rows = await this.db.query(
      `SELECT platform, campaign_id, currency,
              to_char(ts AT TIME ZONE $5, 'YYYY-MM-DD') AS day, ${SUMS}
       FROM campaign_metrics
       WHERE tenant_id = $1 AND (campaign_id, platform) IN (
         SELECT * FROM unnest($2::text[], $3::text[])) AND currency <> $4
       GROUP BY 1, 2, 3, 4`,
      [
        tenantId,
        campaigns.map((c) => c.campaign_id),
        campaigns.map((c) => c.platform),
        target,
        timeZone,
      ],
    );
    return rows.map((row) => DayRowSchema.parse(row));
  }

  async rankCampaigns(
    selection: Selection,
    timeZone: string,
    target: string,
    factors: readonly CurrencyDayFactor[],
    options: Omit<RankOptions, "groupBy">,
  ): Promise<{ platform: string; campaign_id: string }[]> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    const shape = { grain: "campaign", campaignFilter: where.campaignIds.length > 0 } as const;
    const direction = options.order === "asc" ? "ASC" : "DESC";
    // Only the measures the metric needs are summed (the sums are most of the cost);
    // money in other currencies is multiplied by its (currency, day) factor first.
    const columns = metricColumns(options.metric);
    const list = columns.join(", ");
    const converted = columns.map((c) => (MONEY.has(c) ? `o.${c} * f.k AS ${c}` : `o.${c}`))
      .join(", ");
    const sums = columns.map((c) => `sum(${c}) AS ${c}`).join(", ");
    const score = metricSql(options.metric, summed);
    const limit = params.add(options.limit, "::int");
    const sameParts = planRange(where.from, where.to, shape);
    const targetFilter = (p: Params) => [`currency = ${p.add(target)}`];
    const currencies = [...new Set(factors.map((factor) => factor.currency))];
    // Per series and day of the zone, only the currencies that need a rate.
    const foreign = currencies.length === 0 ? undefined : `
      SELECT o.platform, o.campaign_id, ${converted}
      FROM (${
      unionOf(
        planZoneDays(where.from, where.to, timeZone, shape),
        where,
        params,
        timeZone,
        foreignFilter(target, currencies),
      )
    }) o
      JOIN (SELECT * FROM unnest(${params.add(factors.map((x) => x.currency))}::text[],
        ${params.add(factors.map((x) => x.day))}::date[],
        ${params.add(factors.map((x) => x.factor))}::numeric[]) AS f(currency, day, k)) f
        ON f.currency = o.currency AND f.day = o.at::date`;
    let sql: string;
    if (isOneWholeMonth(sameParts) && !shape.campaignFilter) {
      // One whole month: a campaign with no money in other currencies has one monthly
      // row in the target, whose own ratio is its score, so its best rows come from the
      // ROAS index in order (as unconverted); only the campaigns with converted money
      // are summed (their target rows too), and one ranking takes the best of both.
      const month = () => oneMonthFilters(where, sameParts[0].from!, params);
      const best = `SELECT platform, campaign_id, ${list} FROM campaign_monthly m
        WHERE ${month()} AND currency = ${params.add(target)}${
        foreign
          ? ` AND NOT EXISTS (SELECT 1 FROM mixed x
              WHERE x.platform = m.platform AND x.campaign_id = m.campaign_id)`
          : ""
      }
        ORDER BY ${metricSql(options.metric, asIs)} ${direction} NULLS LAST,
          platform, campaign_id, currency
        LIMIT ${limit}`;
      sql = foreign
        ? `WITH mixed AS MATERIALIZED (
             SELECT platform, campaign_id, ${sums} FROM (${foreign}) o GROUP BY 1, 2)
           SELECT platform, campaign_id FROM (
             SELECT platform, campaign_id, ${list} FROM mixed
             UNION ALL
             SELECT platform, campaign_id, ${list} FROM campaign_monthly
             WHERE ${month()} AND currency = ${params.add(target)}
               AND (platform, campaign_id) IN (SELECT platform, campaign_id FROM mixed)
             UNION ALL
             (${best})) ranked
           GROUP BY platform, campaign_id
           ORDER BY ${score} ${direction} NULLS LAST, platform, campaign_id
           LIMIT ${limit}`
        : `SELECT platform, campaign_id FROM (${best}) ranked`;
    } else {
      sql = `SELECT platform, campaign_id FROM (
          SELECT platform, campaign_id, ${list}
          FROM (${unionOf(sameParts, where, params, timeZone, targetFilter)}) same_currency${
        foreign ? `\n          UNION ALL\n          ${foreign}` : ""
      }) converted
        GROUP BY platform, campaign_id
        ORDER BY ${score} ${direction} NULLS LAST, platform, campaign_id
        LIMIT ${limit}`;
    }
    const rows = await this.db.query<{ platform: string; campaign_id: string }>(
      sql,
      params.values,
    );
    return rows.map(({ platform, campaign_id }) => ({ platform, campaign_id }));
  }

  async campaignNames(
    tenantId: string,
    campaigns: readonly { platform: string; campaign_id: string }[],
  ): Promise<Map<string, string>> {
    if (campaigns.length === 0) return new Map();
    const rows = await this.db.query<Record<string, string>>(
      `SELECT platform, campaign_id, name FROM campaigns
       WHERE tenant_id = $1 AND name IS NOT NULL AND (platform, campaign_id) IN (
         SELECT * FROM unnest($2::text[], $3::text[]))`,
      [tenantId, campaigns.map((c) => c.platform), campaigns.map((c) => c.campaign_id)],
    );
    return new Map(rows.map((row) => [`${row.platform}/${row.campaign_id}`, row.name]));
  }
}
