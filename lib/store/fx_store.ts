/**
 * Exchange rates per tenant (table fx_rates) and the per-day sums that conversion
 * needs. Money converts at the rate of its calendar day in the query's zone, so the
 * store answers "sums per (group, currency, day)": from the hourly platform rollup for
 * whole-hour zones (plus raw edges), from the raw rows otherwise. Rows already in the
 * target currency need no rate, so they are not split by day: per-campaign answers read
 * them as unconverted answers do, and the other currencies per series and day where the
 * planner says (planZoneDays); rankings are built in fx_rank_sql.ts. Platform totals
 * and series convert money at direct rates in the statement itself, exactly, and return
 * only the rest per day (convertedPlatformSums, fx_direct_sql.ts).
 */
import type { z } from "zod";
import type { SqlDriver } from "./driver.ts";
import { type RankOptions, type Selection, SelectionSchema } from "./metrics_store.ts";
import {
  isOneWholeMonth,
  isWholeHourZone,
  Params,
  planRange,
  planZoneDays,
  type RangePart,
  unionOf,
} from "./sql_queries.ts";
import {
  factorSpread,
  foreignFilter,
  oneMonthRankSql,
  rangeRankSql,
  ROAS_PREFIX_MAX_SPREAD,
  ROAS_PREFIX_PER_RANK,
  roasPrefixRankSql,
} from "./fx_rank_sql.ts";
import { HorizonCache, readKept } from "./partitions.ts";
import { directlyConvertedSql } from "./fx_direct_sql.ts";
import { type FxRate, type StoredFxRate, StoredFxRateSchema } from "../fx/rates.ts";
import { MAX_RATE_AGE_DAYS, type StoredRate } from "../fx/convert.ts";
import {
  type ConvertedSums,
  type DayRow,
  dayRowOf,
  DayRowSchema,
  type DaysAndRates,
  daysAndRates,
  unpackConverted,
  unpackRates,
  withNeededRates,
} from "./fx_rows.ts";

export {
  type ConvertedSums,
  type DayRow,
  DayRowSchema,
  type DaysAndRates,
  type DirectConversion,
} from "./fx_rows.ts";

/** The first campaigns of a converted ranking (see FxStore.rankCampaigns). */
export interface RankedCampaigns {
  top: { platform: string; campaign_id: string }[];
  rows?: DayRow[];
  names?: Map<string, string>;
}

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
  /**
   * Per platform, currency and day (`everyDay` also splits target-currency rows by day),
   * with the rates those rows need, read by the same statement (see withNeededRates).
   */
  platformDays(
    selection: Selection,
    timeZone: string,
    target: string,
    everyDay: boolean,
  ): Promise<DaysAndRates>;
  /**
   * Every (currency, day) of the selection with money not in `target` (days of the zone),
   * and the rates converting it may use (as platformDays picks them). One statement.
   */
  foreignDays(
    selection: Selection,
    timeZone: string,
    target: string,
  ): Promise<{ days: { currency: string; day: string }[]; rates: StoredRate[] }>;
  /**
   * Per platform (and day with `everyDay`), in the target currency, with the money of
   * every (currency, day) whose rate is a direct one converted by the statement itself
   * (see directRatesSql); per platform, currency and day for the rest, with the rates
   * those rows may use. One statement.
   */
  convertedPlatformSums(
    selection: Selection,
    timeZone: string,
    target: string,
    everyDay: boolean,
  ): Promise<ConvertedSums>;
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
   * With `rows`, their sums as `campaignDays` gives them (and their names) came with the
   * ranking; without, the caller reads them.
   */
  rankCampaigns(
    selection: Selection,
    timeZone: string,
    target: string,
    factors: readonly CurrencyDayFactor[],
    options: Omit<RankOptions, "groupBy">,
  ): Promise<RankedCampaigns>;
  /** Catalog names of these campaigns (absent: unknown or unnamed). */
  campaignNames(
    tenantId: string,
    campaigns: readonly { platform: string; campaign_id: string }[],
  ): Promise<Map<string, string>>;
}

const SUMS = `sum(impressions)::text AS impressions, sum(clicks)::text AS clicks,
  sum(conversions)::text AS conversions, sum(cost)::text AS cost, sum(revenue)::text AS revenue`;
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
  ): Promise<DaysAndRates> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    const parts = platformParts(where, timeZone);
    const union = unionOf(parts, where, params, timeZone);
    const day = everyDay
      ? "at::date"
      : `CASE WHEN currency = ${params.add(target)} THEN NULL ELSE at::date END`;
    // Grouped by date, formatted once per group (to_char per row costs more than the sums).
    const sums = `SELECT platform::text, NULL::text AS campaign_id, currency,
              to_char(day, 'YYYY-MM-DD') AS day, ${SUMS_OF_SUMS}
       FROM (SELECT platform, currency, ${day} AS day, ${SUMS_RAW}
             FROM (${union}) parts GROUP BY 1, 2, 3) grouped`;
    const rows = await readKept(
      this.horizon,
      parts,
      () =>
        this.db.query<Record<string, string | null>>(
          withNeededRates(sums, params, where.tenantId, target),
          params.values,
        ),
    );
    return daysAndRates(rows);
  }

  async foreignDays(
    selection: Selection,
    timeZone: string,
    target: string,
  ): Promise<{ days: { currency: string; day: string }[]; rates: StoredRate[] }> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    const parts = platformParts(where, timeZone);
    const union = unionOf(parts, where, params, timeZone, (p) => [`currency <> ${p.add(target)}`]);
    const t = params.add(target);
    const tenant = params.add(where.tenantId);
    const sql = `WITH days AS MATERIALIZED (
        SELECT DISTINCT currency, at::date AS day FROM (${union}) parts),
      needed AS (
        SELECT min(day) - ${MAX_RATE_AGE_DAYS} AS first, max(day) AS last,
               array_agg(DISTINCT currency::bpchar) || ${t}::bpchar AS currencies
        FROM days)
      SELECT 'days' AS kind, currency::text AS currency, NULL::text AS base, NULL::text AS quote,
             NULL::text AS source, string_agg(to_char(day, 'YYYY-MM-DD'), ',') AS packed
      FROM days GROUP BY currency
      UNION ALL
      SELECT 'rates', NULL, r.base::text, r.quote::text, r.source,
             string_agg(to_char(r.day, 'YYYY-MM-DD') || ' ' || r.rate::text, ',')
      FROM needed n JOIN fx_rates r ON r.tenant_id = ${tenant}
        AND r.day BETWEEN n.first AND n.last
        AND (r.base = ANY(n.currencies) OR r.quote = ANY(n.currencies))
      GROUP BY r.base, r.quote, r.source`;
    const rows = await readKept(
      this.horizon,
      parts,
      () => this.db.query<Record<string, string | null>>(sql, params.values),
    );
    const days: { currency: string; day: string }[] = [];
    const rates: StoredRate[] = [];
    for (const row of rows) {
      if (row.kind === "days") {
        const currency = row.currency!.trim();
        for (const day of row.packed!.split(",")) days.push({ currency, day });
      } else unpackRates(row, rates);
    }
    return { days, rates };
  }

  async convertedPlatformSums(
    selection: Selection,
    timeZone: string,
    target: string,
    everyDay: boolean,
  ): Promise<ConvertedSums> {
    const where = SelectionSchema.parse(selection);
    if (!where.from || !where.to) {
      // An open range: no calendar to price in SQL; every foreign row per day.
      return { ...await this.platformDays(selection, timeZone, target, everyDay), direct: [] };
    }
    const params = new Params();
    const hourly = where.campaignIds.length === 0 &&
      isWholeHourZone(timeZone, where.from, where.to);
    const parts: RangePart[] = hourly
      ? planRange(where.from, where.to, { grain: "platform" })
      : [{ source: "raw", from: where.from, to: where.to }];
    const union = unionOf(parts, where, params, timeZone);
    const sql = directlyConvertedSql(union, params, {
      tenantId: where.tenantId,
      target,
      timeZone,
      from: where.from,
      to: where.to,
      everyDay,
    });
    const rows = await readKept(
      this.horizon,
      parts,
      () => this.db.query<Record<string, string | null>>(sql, params.values),
    );
    return unpackConverted(rows, target);
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
    const sameParts = planRange(where.from, where.to, shape);
    const dayParts = currencies?.length === 0 ? [] : planZoneDays(
      where.from,
      where.to,
      timeZone,
      shape,
    );
    const same = unionOf(
      sameParts,
      where,
      params,
      timeZone,
      (p) => [`currency = ${p.add(target)}`],
    );
    const other = dayParts.length === 0 ? "" : unionOf(
      dayParts,
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
    const rows = await readKept(
      this.horizon,
      [...sameParts, ...dayParts],
      () => this.db.query(sql, params.values),
    );
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
  ): Promise<RankedCampaigns> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    const shape = { grain: "campaign", campaignFilter: where.campaignIds.length > 0 } as const;
    const sameParts = planRange(where.from, where.to, shape);
    const dayParts = planZoneDays(where.from, where.to, timeZone, shape);
    const currencies = [...new Set(factors.map((factor) => factor.currency))];
    const rank = { ...options, target, factors, currencies, params, where };
    if (
      isOneWholeMonth(sameParts) && !shape.campaignFilter &&
      dayParts.every((part) => part.source === "campaign_daily")
    ) {
      const month = sameParts[0].from!;
      let found: Record<string, string | null>[] | undefined;
      if (options.metric === "roas" && options.order !== "asc" && currencies.length > 0) {
        const spread = factorSpread(factors);
        const rows = options.limit * ROAS_PREFIX_PER_RANK;
        const prefix = await this.db.query<Record<string, string | null>>(
          roasPrefixRankSql({ ...rank, month }, { rows }),
          params.values,
        );
        const [check] = prefix as Record<string, unknown>[];
        const threshold = check?.threshold === null ? undefined : Number(check?.threshold);
        // Settled: nothing at all, the whole month read, or `limit` campaigns scored with a
        // ratio that no campaign left unread can reach (once the prefix reaches the rows
        // without a ratio, an unread campaign has neither cost nor revenue: no ratio).
        if (
          !check || Number(check.prefix_rows) < rows ||
          (threshold !== undefined &&
            (check.reached_nulls === true || Number(check.last_score) * spread < threshold))
        ) found = prefix;
        else if (threshold !== undefined && spread <= ROAS_PREFIX_MAX_SPREAD) {
          // Every row whose ratio times ρ could reach the threshold: complete by the
          // argument above (the threshold only rises with more campaigns read).
          const again = new Params();
          found = await this.db.query<Record<string, string | null>>(
            roasPrefixRankSql({ ...rank, params: again, month }, {
              atLeast: threshold / spread * (1 - 1e-9),
            }),
            again.values,
          );
        }
      }
      if (!found) {
        const boundsParams = new Params();
        found = await this.db.query<Record<string, string | null>>(
          oneMonthRankSql({ ...rank, params: boundsParams, month }),
          boundsParams.values,
        );
      }
      const top = new Map<string, { platform: string; campaign_id: string }>();
      const names = new Map<string, string>();
      for (const { platform, campaign_id, campaign_name } of found) {
        const key = `${platform}/${campaign_id}`;
        top.set(key, { platform: platform!, campaign_id: campaign_id! });
        if (campaign_name !== null) names.set(key, campaign_name!);
      }
      return { top: [...top.values()], rows: found.map(dayRowOf), names };
    }
    const found = await readKept(
      this.horizon,
      [...sameParts, ...dayParts],
      () =>
        this.db.query<{ platform: string; campaign_id: string }>(
          rangeRankSql({ ...rank, sameParts, dayParts, timeZone }),
          params.values,
        ),
    );
    return { top: found.map(({ platform, campaign_id }) => ({ platform, campaign_id })) };
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

/**
 * Per-platform parts of a range: the hourly platform rollup in zones whose days start
 * on whole UTC hours, raw rows otherwise (and for a campaign filter).
 */
function platformParts(where: z.output<typeof SelectionSchema>, timeZone: string): RangePart[] {
  const hourly = where.campaignIds.length === 0 &&
    isWholeHourZone(timeZone, where.from, where.to);
  return hourly
    ? planRange(where.from, where.to, { grain: "platform" })
    : [{ source: "raw", from: where.from, to: where.to }];
}
