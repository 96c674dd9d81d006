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
  isWholeHourZone,
  metricSql,
  Params,
  partSql,
  planBuckets,
  planRange,
  type RangePart,
  summed,
  unionOf,
} from "./sql_queries.ts";
import { zoneBuckets } from "./range_plan.ts";
import { HorizonCache, readKept } from "./partitions.ts";
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
  /** Per platform, campaign, currency and day. */
  campaignDays(selection: Selection, timeZone: string, target: string): Promise<DayRow[]>;
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

const UPSERT_RATES_SQL = `
INSERT INTO fx_rates AS r (tenant_id, base, quote, day, rate, source)
SELECT DISTINCT ON (base, quote, day) $1, base, quote, day, rate, $6
FROM unnest($2::text[], $3::text[], $4::date[], $5::numeric[]) WITH ORDINALITY
     AS i(base, quote, day, rate, ord)
ORDER BY base, quote, day, ord DESC
ON CONFLICT (tenant_id, base, quote, day) DO UPDATE SET
  rate = EXCLUDED.rate, source = EXCLUDED.source, updated_at = now()`;

type Where = z.output<typeof SelectionSchema>;

function commonFilters(where: Where, params: Params): string[] {
  const filters = [`tenant_id = ${params.add(where.tenantId)}`];
  if (where.platforms.length) {
    filters.push(`platform = ANY(${params.add(where.platforms)}::text[])`);
  }
  if (where.currency) filters.push(`currency = ${params.add(where.currency)}`);
  return filters;
}

function rawSql(
  where: Where,
  params: Params,
  range: { from?: Date; to?: Date },
  timeZone: string,
  extra: string[] = [],
): string {
  const filters = [...commonFilters(where, params), ...extra];
  if (where.campaignIds.length) {
    filters.push(`campaign_id = ANY(${params.add(where.campaignIds)}::text[])`);
  }
  if (range.from) filters.push(`ts >= ${params.add(range.from.toISOString(), "::timestamptz")}`);
  if (range.to) filters.push(`ts < ${params.add(range.to.toISOString(), "::timestamptz")}`);
  return `SELECT platform, campaign_id, currency, ts AT TIME ZONE ${
    params.add(timeZone)
  } AS at, ${MEASURES} FROM campaign_metrics WHERE ${filters.join(" AND ")}`;
}

/**
 * The parts of a selection per calendar day of the zone (other-currency money converts
 * at its day's rate): each day planned on its own, so a daily rollup row only answers a
 * day of the zone that is exactly its UTC day. Open bounds and campaign filters: raw.
 */
function zoneDayParts(where: Where, timeZone: string): RangePart[] {
  if (!where.from || !where.to || where.campaignIds.length > 0) {
    return [{ source: "raw", from: where.from, to: where.to }];
  }
  return planBuckets(zoneBuckets(where.from, where.to, "day", timeZone), { grain: "campaign" });
}

const monthOf = (date: Date) => `${date.toISOString().slice(0, 7)}-01`;

export class SqlFxStore implements FxStore {
  /** The retention horizon, for reads of raw rows (see HorizonCache). */
  private readonly horizon: HorizonCache;

  constructor(private readonly db: SqlDriver, options: { horizonCacheMs?: number } = {}) {
    this.horizon = new HorizonCache(db, options.horizonCacheMs);
  }

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
    const rows = await readKept(this.horizon, parts, () =>
      this.db.query(
        `SELECT platform, NULL AS campaign_id, currency, to_char(day, 'YYYY-MM-DD') AS day,
                ${SUMS_OF_SUMS}
         FROM (SELECT platform, currency, ${day} AS day, ${SUMS_RAW}
               FROM (${union}) parts GROUP BY 1, 2, 3) grouped
         ORDER BY grouped.day NULLS FIRST, currency COLLATE "C", platform COLLATE "C"`,
        params.values,
      ));
    return rows.map((row) => DayRowSchema.parse(row));
  }

  async campaignDays(selection: Selection, timeZone: string, target: string): Promise<DayRow[]> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    let sql: string;
    let read: RangePart[];
    if (where.campaignIds.length > 0) {
      read = [{ source: "raw", from: where.from, to: where.to }];
      sql = `SELECT platform, campaign_id, currency,
          CASE WHEN currency = ${params.add(target)} THEN NULL ELSE to_char(at, 'YYYY-MM-DD') END
          AS day, ${SUMS}
        FROM (${rawSql(where, params, where, timeZone)}) parts GROUP BY 1, 2, 3, 4`;
    } else {
      // Target-currency money needs no rate: the campaign rollups (plus raw edges) as usual;
      // other currencies per day of the zone: whole UTC days that are days of the zone
      // (UTC, or a zone at UTC+0 then) from the daily rollup, the rest from raw rows.
      const sameParts = planRange(where.from, where.to, { grain: "campaign" });
      const otherParts = zoneDayParts(where, timeZone);
      read = [...sameParts, ...otherParts];
      const same = unionOf(
        sameParts,
        where,
        params,
        timeZone,
        (p) => [`currency = ${p.add(target)}`],
      );
      const other = unionOf(
        otherParts,
        where,
        params,
        timeZone,
        (p) => [`currency <> ${p.add(target)}`],
      );
      sql = `SELECT platform, campaign_id, currency, NULL::text AS day, ${SUMS}
        FROM (${same}) same_currency GROUP BY 1, 2, 3
        UNION ALL
        SELECT platform, campaign_id, currency, to_char(at, 'YYYY-MM-DD') AS day, ${SUMS}
        FROM (${other}) other_currencies GROUP BY 1, 2, 3, 4`;
    }
    const rows = await readKept(this.horizon, read, () => this.db.query(sql, params.values));
    return rows.map((row) => DayRowSchema.parse(row));
  }

  async campaignLifetimeDays(
    tenantId: string,
    campaigns: readonly { platform: string; campaign_id: string }[],
    timeZone: string,
    target: string,
  ): Promise<DayRow[]> {
    if (campaigns.length === 0) return [];
    // Every raw row of the campaigns: refused once retention dropped any.
    const rows = await readKept(this.horizon, [{ source: "raw" }], () =>
      this.db.query(
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
      ));
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
    const targetParam = params.add(target);
    // Added where used: a part list of daily rows only does not mention the zone.
    const zone = () => params.add(timeZone);
    const f = `SELECT * FROM unnest(${params.add(factors.map((x) => x.currency))}::text[],
      ${params.add(factors.map((x) => x.day))}::date[],
      ${params.add(factors.map((x) => x.factor))}::numeric[]) AS f(currency, day, k)`;
    let same: string;
    let other: string;
    const otherFilters = (alias: string, range: { from?: Date; to?: Date }) => {
      const filters = [`${alias}.currency <> ${targetParam}`];
      if (where.currency) filters.push(`${alias}.currency = ${params.add(where.currency)}`);
      if (range.from) {
        filters.push(`${alias}.ts >= ${params.add(range.from.toISOString(), "::timestamptz")}`);
      }
      if (range.to) {
        filters.push(`${alias}.ts < ${params.add(range.to.toISOString(), "::timestamptz")}`);
      }
      return filters.join(" AND ");
    };
    let read: RangePart[];
    if (where.campaignIds.length > 0) {
      read = [{ source: "raw", from: where.from, to: where.to }];
      same = rawSql(where, params, where, timeZone, [`currency = ${targetParam}`]);
      const filters = [`m.tenant_id = ${params.add(where.tenantId)}`, otherFilters("m", where)];
      filters.push(`m.campaign_id = ANY(${params.add(where.campaignIds)}::text[])`);
      if (where.platforms.length) {
        filters.push(`m.platform = ANY(${params.add(where.platforms)}::text[])`);
      }
      other = `SELECT m.platform, m.campaign_id, m.currency, m.ts AT TIME ZONE ${zone()} AS at,
          m.impressions, m.clicks, m.conversions, m.cost, m.revenue
        FROM campaign_metrics m WHERE ${filters.join(" AND ")}`;
    } else {
      const sameParts = planRange(where.from, where.to, { grain: "campaign" });
      const otherParts = zoneDayParts(where, timeZone);
      read = [...sameParts, ...otherParts];
      same = unionOf(
        sameParts,
        where,
        params,
        timeZone,
        () => [`currency = ${targetParam}`],
      );
      // Other currencies per day of the zone: daily rollup rows where a UTC day is a day
      // of the zone, else the raw rows of the campaigns with money in other currencies
      // over the months the part touches (the monthly rollup), by primary key: not a
      // scan of every raw row (OFFSET 0 keeps the planner from flattening the lookup
      // into a scan and a hash join).
      other = otherParts.map((part) => {
        if (part.source !== "raw") {
          return partSql(part, where, params, timeZone, [`currency <> ${targetParam}`]);
        }
        const tenant = params.add(where.tenantId);
        const candidates = [`tenant_id = ${tenant}`, `currency <> ${targetParam}`];
        if (where.platforms.length) {
          candidates.push(`platform = ANY(${params.add(where.platforms)}::text[])`);
        }
        if (where.currency) candidates.push(`currency = ${params.add(where.currency)}`);
        if (part.from) candidates.push(`month >= ${params.add(monthOf(part.from), "::date")}`);
        if (part.to) candidates.push(`month <= ${params.add(monthOf(part.to), "::date")}`);
        return `SELECT m.platform, m.campaign_id, m.currency, m.ts AT TIME ZONE ${zone()} AS at,
            m.impressions, m.clicks, m.conversions, m.cost, m.revenue
          FROM (SELECT DISTINCT platform, campaign_id FROM campaign_monthly
            WHERE ${candidates.join(" AND ")}) c
          CROSS JOIN LATERAL (SELECT * FROM campaign_metrics m WHERE m.tenant_id = ${tenant}
            AND m.campaign_id = c.campaign_id AND m.platform = c.platform
            AND ${otherFilters("m", part)} OFFSET 0) m`;
      }).join("\nUNION ALL\n");
    }
    const direction = options.order === "asc" ? "ASC" : "DESC";
    const rows = await readKept(
      this.horizon,
      read,
      () =>
        this.db.query<{ platform: string; campaign_id: string }>(
          `SELECT platform, campaign_id FROM (
         SELECT platform, campaign_id, ${MEASURES} FROM (${same}) same_currency
         UNION ALL
         SELECT o.platform, o.campaign_id, o.impressions, o.clicks, o.conversions,
                o.cost * f.k, o.revenue * f.k
         FROM (${other}) o JOIN (${f}) f
           ON f.currency = o.currency AND f.day = o.at::date
       ) converted
       GROUP BY platform, campaign_id
       ORDER BY ${metricSql(options.metric, summed)} ${direction} NULLS LAST, platform, campaign_id
       LIMIT ${params.add(options.limit, "::int")}`,
          params.values,
        ),
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
