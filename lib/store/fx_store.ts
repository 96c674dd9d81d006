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
import { type Selection, SelectionSchema } from "./metrics_store.ts";
import { isWholeHourZone, splitRange } from "./sql_store.ts";
import { type FxRate, type StoredFxRate, StoredFxRateSchema } from "../fx/rates.ts";
import type { StoredRate } from "../fx/convert.ts";
import { MeasureSumsTextSchema } from "../metrics.ts";
import { PlatformSchema } from "../schema.ts";

/** Sums of one (platform[, campaign], currency, day); day null for target-currency rows. */
export const DayRowSchema = MeasureSumsTextSchema.extend({
  platform: PlatformSchema,
  campaign_id: z.string().nullable(),
  currency: z.string().transform((code) => code.trim()),
  day: z.string().nullable(),
});
export type DayRow = z.infer<typeof DayRowSchema>;

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
  /** Catalog names of these campaigns (absent: unknown or unnamed). */
  campaignNames(
    tenantId: string,
    campaigns: readonly { platform: string; campaign_id: string }[],
  ): Promise<Map<string, string>>;
}

const SUMS = `sum(impressions)::text AS impressions, sum(clicks)::text AS clicks,
  sum(conversions)::text AS conversions, sum(cost)::text AS cost, sum(revenue)::text AS revenue`;
const MEASURES = "impressions, clicks, conversions, cost, revenue";

const UPSERT_RATES_SQL = `
INSERT INTO fx_rates AS r (tenant_id, base, quote, day, rate, source)
SELECT DISTINCT ON (base, quote, day) $1, base, quote, day, rate, $6
FROM unnest($2::text[], $3::text[], $4::date[], $5::numeric[]) WITH ORDINALITY
     AS i(base, quote, day, rate, ord)
ORDER BY base, quote, day, ord DESC
ON CONFLICT (tenant_id, base, quote, day) DO UPDATE SET
  rate = EXCLUDED.rate, source = EXCLUDED.source, updated_at = now()`;

class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = ""): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

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

const isoDate = (date: Date) => date.toISOString().slice(0, 10);

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
    const parts = hourly
      ? splitRange(where.from, where.to, "platform_hourly")
      : [{ source: "raw" as const, from: where.from, to: where.to }];
    const union = parts.map((part) => {
      if (part.source === "raw") return rawSql(where, params, part, timeZone);
      const filters = commonFilters(where, params);
      if (part.from) {
        filters.push(`hour >= ${params.add(part.from.toISOString(), "::timestamptz")}`);
      }
      if (part.to) filters.push(`hour < ${params.add(part.to.toISOString(), "::timestamptz")}`);
      return `SELECT platform, NULL::text AS campaign_id, currency,
        hour AT TIME ZONE ${params.add(timeZone)} AS at, ${MEASURES}
        FROM platform_hourly WHERE ${filters.join(" AND ")}`;
    }).join("\nUNION ALL\n");
    const day = everyDay
      ? "to_char(at, 'YYYY-MM-DD')"
      : `CASE WHEN currency = ${params.add(target)} THEN NULL ELSE to_char(at, 'YYYY-MM-DD') END`;
    const rows = await this.db.query(
      `SELECT platform, NULL AS campaign_id, currency, ${day} AS day, ${SUMS}
       FROM (${union}) parts GROUP BY 1, 3, 4 ORDER BY 4 NULLS FIRST, 1, 3`,
      params.values,
    );
    return rows.map((row) => DayRowSchema.parse(row));
  }

  async campaignDays(selection: Selection, timeZone: string, target: string): Promise<DayRow[]> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    let sql: string;
    if (where.campaignIds.length > 0) {
      sql = `SELECT platform, campaign_id, currency,
          CASE WHEN currency = ${params.add(target)} THEN NULL ELSE to_char(at, 'YYYY-MM-DD') END
          AS day, ${SUMS}
        FROM (${rawSql(where, params, where, timeZone)}) parts GROUP BY 1, 2, 3, 4`;
    } else {
      // Target-currency money needs no rate: the monthly rollup (plus raw edges) as usual.
      const same = splitRange(where.from, where.to, "campaign_monthly").map((part) => {
        if (part.source === "raw") {
          return rawSql(where, params, part, timeZone, [`currency = ${params.add(target)}`]);
        }
        const filters = [...commonFilters(where, params), `currency = ${params.add(target)}`];
        if (part.from) filters.push(`month >= ${params.add(isoDate(part.from), "::date")}`);
        if (part.to) filters.push(`month < ${params.add(isoDate(part.to), "::date")}`);
        return `SELECT platform, campaign_id, currency, NULL::timestamp AS at, ${MEASURES}
          FROM campaign_monthly WHERE ${filters.join(" AND ")}`;
      }).join("\nUNION ALL\n");
      const other = rawSql(where, params, where, timeZone, [`currency <> ${params.add(target)}`]);
      sql = `SELECT platform, campaign_id, currency, NULL::text AS day, ${SUMS}
        FROM (${same}) same_currency GROUP BY 1, 2, 3
        UNION ALL
        SELECT platform, campaign_id, currency, to_char(at, 'YYYY-MM-DD') AS day, ${SUMS}
        FROM (${other}) other_currencies GROUP BY 1, 2, 3, 4`;
    }
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
