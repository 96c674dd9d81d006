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
const MONEY = new Set(["cost", "revenue"]);
const MEASURE_NAMES = ["impressions", "clicks", "conversions", "cost", "revenue"];
const MEASURE_TEXT = MEASURE_NAMES.map((c) => `w.${c}::text AS ${c}`).join(", ");

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

interface RankSql extends Omit<RankOptions, "groupBy"> {
  where: z.output<typeof SelectionSchema>;
  params: Params;
  target: string;
  factors: readonly CurrencyDayFactor[];
  /** The currencies of `factors`: the other currencies with money in the selection. */
  currencies: readonly string[];
}

/** The first day of a month and of the next, as parameters (days of the daily rollup). */
function monthBounds(month: Date, params: Params): [string, string] {
  const next = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
  return [
    params.add(month.toISOString().slice(0, 10), "::date"),
    params.add(next.toISOString().slice(0, 10), "::date"),
  ];
}

/** The factors as a relation f(currency, day, k). */
function factorsSql(factors: readonly CurrencyDayFactor[], params: Params): string {
  return `SELECT * FROM unnest(${params.add(factors.map((x) => x.currency))}::text[],
      ${params.add(factors.map((x) => x.day))}::date[],
      ${params.add(factors.map((x) => x.factor))}::numeric[]) AS f(currency, day, k)`;
}

/**
 * Any range: the target-currency money as the unconverted ranking reads it (the
 * planner's parts), the other currencies per series and day of the zone (by currency
 * from the daily rollup, sql/008, or raw rows per series) times their day's factor,
 * summed per campaign; only the metric's measures.
 */
function rangeRankSql(
  rank: RankSql & { sameParts: RangePart[]; dayParts: RangePart[]; timeZone: string },
): string {
  const { where, params, target, metric } = rank;
  const columns = metricColumns(metric);
  const list = columns.join(", ");
  const same = unionOf(rank.sameParts, where, params, rank.timeZone, (p) => [
    `currency = ${p.add(target)}`,
  ]);
  const foreign = rank.currencies.length === 0 ? "" : `
    UNION ALL
    SELECT o.platform, o.campaign_id, ${
    columns.map((c) => (MONEY.has(c) ? `o.${c} * f.k AS ${c}` : `o.${c}`)).join(", ")
  }
    FROM (${
    unionOf(rank.dayParts, where, params, rank.timeZone, foreignFilter(target, rank.currencies))
  }) o
    JOIN (${factorsSql(rank.factors, params)}) f
      ON f.currency = o.currency AND f.day = o.at::date`;
  const direction = rank.order === "asc" ? "ASC" : "DESC";
  return `SELECT platform, campaign_id FROM (
      SELECT platform, campaign_id, ${list} FROM (${same}) same_currency${foreign}) converted
    GROUP BY platform, campaign_id
    ORDER BY ${metricSql(metric, summed)} ${direction} NULLS LAST, platform, campaign_id
    LIMIT ${params.add(rank.limit, "::int")}`;
}

/**
 * One whole UTC month whose days are days of the zone. A campaign with money in the
 * target only has one monthly row, whose own ratio is its score: the best of those come
 * from the monthly rollup in order (the ROAS index, as unconverted). A campaign with
 * other currencies converts each day at its own rate, but its converted sums lie
 * between its monthly sums times the smallest and the largest factor of its currency
 * over the range (amounts are non-negative), so its score lies between two bounds. The
 * `limit`-th best of the pure campaigns' scores and of the others' lower bounds is a
 * score at least `limit` campaigns reach; a campaign whose upper bound stays below it
 * cannot rank, and only the others (a few of the month's series, found from the monthly
 * rollup by currency, sql/008) are read per day (the series index of sql/008: one
 * short range per series) and converted. Ties at the threshold are kept, and the ranking itself
 * orders by the converted sums only. (OFFSET 0 keeps the lookups as per-series probes:
 * flattened, the planner scans every foreign row of the month and hashes.)
 */
function oneMonthRankSql(rank: RankSql & { month: Date }): string {
  const { where, params, target, metric } = rank;
  const columns = metricColumns(metric);
  const list = columns.join(", ");
  const desc = rank.order !== "asc";
  const direction = desc ? "DESC" : "ASC";
  const limit = params.add(rank.limit, "::int");
  const month = () => oneMonthFilters(where, rank.month, params);
  const targetParam = params.add(target);
  const tenant = params.add(where.tenantId);
  // The answer: every row of the winning campaigns (one monthly row per currency they
  // have in the target, their other money per day) with the catalog name, so that they
  // are summed exactly without another read.
  const answer = (sources: string[]) => `
  SELECT w.platform, w.campaign_id, w.currency, w.day, ${MEASURE_TEXT}, c.name AS campaign_name
  FROM (${sources.join("\n    UNION ALL\n    ")}) w
  LEFT JOIN campaigns c ON c.tenant_id = ${tenant} AND c.platform = w.platform
    AND c.campaign_id = w.campaign_id`;
  const monthRow = (alias: string) =>
    `SELECT ${alias}.platform, ${alias}.campaign_id, ${alias}.currency, NULL::text AS day, ${
      MEASURE_NAMES.map((c) => `${alias}.${c}`).join(", ")
    }`;
  // NOT IN over a hashed subplan: one hash of the foreign campaigns, not a scan of them
  // per row of the index (the columns are NOT NULL, so NOT IN means "not among").
  const best = `SELECT platform, campaign_id, currency, ${MEASURE_NAMES.join(", ")},
        ${metricSql(metric, asIs)} AS score
      FROM campaign_monthly WHERE ${month()} AND currency = ${targetParam}${
    rank.currencies.length
      ? ` AND (platform, campaign_id) NOT IN (SELECT platform, campaign_id FROM foreign_campaigns)`
      : ""
  }
      ORDER BY ${metricSql(metric, asIs)} ${direction} NULLS LAST, platform, campaign_id, currency
      LIMIT ${limit}`;
  if (rank.currencies.length === 0) {
    return `WITH best AS MATERIALIZED (${best}) ${answer([`${monthRow("b")} FROM best b`])}`;
  }
  // Each measure's bounds: lo_x and hi_x (money times the smallest / largest factor), in
  // float8 (they only select; the ranking is on the NUMERIC sums), widened by a relative
  // 1e-9, far more than the float rounding of a few terms, so that they stay bounds.
  const bounded = (side: "lo" | "hi") => (c: string) => MONEY.has(c) ? `${side}_${c}` : c;
  const upper = metricSql(metric, (c) => bounded(c === columns[0] ? "hi" : "lo")(c));
  const lower = metricSql(metric, (c) => bounded(c === columns[0] ? "lo" : "hi")(c));
  const boundColumns = columns.flatMap((c) => (MONEY.has(c) ? [`lo_${c}`, `hi_${c}`] : [c]));
  const boundSums = boundColumns.map((c) => `sum(${c}) AS ${c}`).join(", ");
  const asBounds = (alias: string, lo: string, hi: string) =>
    columns.flatMap((c) =>
      MONEY.has(c)
        ? [`${alias}.${c}::float8 * ${lo} AS lo_${c}`, `${alias}.${c}::float8 * ${hi} AS hi_${c}`]
        : [`${alias}.${c}`]
    ).join(", ");
  const currencies = params.add(rank.currencies);
  const [monthStart, monthEnd] = monthBounds(rank.month, params);
  return `WITH f AS MATERIALIZED (${factorsSql(rank.factors, params)}),
  factor_range AS (
    SELECT currency, min(k)::float8 * (1 - 1e-9) AS lo, max(k)::float8 * (1 + 1e-9) AS hi
    FROM f GROUP BY currency),
  foreign_monthly AS MATERIALIZED (
    SELECT platform, campaign_id, currency, ${list} FROM campaign_monthly
    WHERE ${month()} AND currency = ANY(${currencies}::bpchar[])),
  foreign_campaigns AS MATERIALIZED (SELECT DISTINCT platform, campaign_id FROM foreign_monthly),
  target_of_foreign AS MATERIALIZED (
    SELECT x.platform, x.campaign_id, t.currency, ${MEASURE_NAMES.map((c) => `t.${c}`).join(", ")}
    FROM foreign_campaigns x CROSS JOIN LATERAL (
      SELECT currency, ${MEASURE_NAMES.join(", ")} FROM campaign_monthly
      WHERE ${month()} AND currency = ${targetParam}
        AND platform = x.platform AND campaign_id = x.campaign_id OFFSET 0) t),
  bounds AS (
    SELECT platform, campaign_id, ${upper} AS upper, ${lower} AS lower FROM (
      SELECT platform, campaign_id, ${boundSums} FROM (
        SELECT m.platform, m.campaign_id, ${asBounds("m", "r.lo", "r.hi")}
        FROM foreign_monthly m JOIN factor_range r ON r.currency = m.currency
        UNION ALL
        SELECT t.platform, t.campaign_id, ${asBounds("t", "(1 - 1e-9)", "(1 + 1e-9)")}
        FROM target_of_foreign t
      ) terms GROUP BY 1, 2) summed),
  best AS MATERIALIZED (${best}),
  threshold AS (
    SELECT score FROM (
      SELECT score FROM best UNION ALL SELECT ${desc ? "lower" : "upper"} FROM bounds) s
    WHERE score IS NOT NULL
    ORDER BY score ${direction} OFFSET ${limit} - 1 LIMIT 1),
  candidates AS MATERIALIZED (
    SELECT platform, campaign_id FROM bounds
    WHERE NOT EXISTS (SELECT 1 FROM threshold)
       OR ${desc ? "upper >=" : "lower <="} (SELECT score FROM threshold)),
  candidate_days AS MATERIALIZED (
    SELECT c.platform, c.campaign_id, d.currency, d.day, ${
    MEASURE_NAMES.map((m) => `d.${m}`).join(", ")
  }
    FROM candidates c
    CROSS JOIN LATERAL (
      SELECT currency, day, ${MEASURE_NAMES.join(", ")} FROM campaign_daily
      WHERE tenant_id = ${tenant} AND campaign_id = c.campaign_id AND platform = c.platform
        AND day >= ${monthStart} AND day < ${monthEnd}
        AND currency = ANY(${currencies}::bpchar[]) OFFSET 0) d),
  winners AS MATERIALIZED (
    SELECT platform, campaign_id FROM (
      SELECT platform, campaign_id, ${list} FROM best
      UNION ALL
      SELECT t.platform, t.campaign_id, ${columns.map((c) => `t.${c}`).join(", ")}
      FROM target_of_foreign t JOIN candidates c USING (platform, campaign_id)
      UNION ALL
      SELECT d.platform, d.campaign_id, ${
    columns.map((c) => (MONEY.has(c) ? `d.${c} * f.k` : `d.${c}`)).join(", ")
  }
      FROM candidate_days d JOIN f ON f.currency = d.currency AND f.day = d.day
    ) ranked
    GROUP BY platform, campaign_id
    ORDER BY ${metricSql(metric, summed)} ${direction} NULLS LAST, platform, campaign_id
    LIMIT ${limit})
  ${
    answer([
      `${monthRow("b")} FROM best b JOIN winners USING (platform, campaign_id)`,
      `${monthRow("t")} FROM target_of_foreign t JOIN winners USING (platform, campaign_id)`,
      `SELECT d.platform, d.campaign_id, d.currency, to_char(d.day, 'YYYY-MM-DD'), ${
        MEASURE_NAMES.map((c) => `d.${c}`).join(", ")
      } FROM candidate_days d JOIN winners USING (platform, campaign_id)`,
    ])
  }`;
}

/** Rows of the ROAS index a top-N ranking reads first, per rank (see roasPrefixRankSql). */
const ROAS_PREFIX_PER_RANK = 24;
/**
 * Up to this spread of factors a prefix that did not settle the top is read again down
 * to the ratio that does (threshold / ρ); beyond, that could be most of the month, and
 * the bounds of oneMonthRankSql decide instead.
 */
const ROAS_PREFIX_MAX_SPREAD = 1.25;

/**
 * Top campaigns by ROAS (descending) of one whole month, from the first rows of the ROAS
 * index (sql/006) over every currency. Converting a currency's money at each day's rate
 * multiplies its revenue and its cost by factors between the range's smallest and
 * largest, so a converted ratio is at most the row's own ratio times their quotient ρ;
 * and a campaign's ratio of sums is at most the largest ratio of its rows (amounts are
 * non-negative; a row with revenue and no cost has no ratio and is always read). So
 * every campaign the prefix does not reach scores at most ρ × the prefix's last ratio,
 * and when that is below the limit-th best score of the campaigns it reached (converted
 * from all their rows, foreign ones per day), those are the top. The answer carries
 * what the caller checks (`prefix_rows`, `last_score`, `threshold`, `reached_nulls`);
 * when the check fails, the bounds of oneMonthRankSql decide instead.
 */
function roasPrefixRankSql(
  rank: RankSql & { month: Date },
  reach: { rows: number } | { atLeast: number },
): string {
  const { where, params, target } = rank;
  const month = () => oneMonthFilters(where, rank.month, params);
  const limit = params.add(rank.limit, "::int");
  const tenant = params.add(where.tenantId);
  const currencies = params.add(rank.currencies);
  const ratio = metricSql("roas", asIs);
  const [monthStart, monthEnd] = monthBounds(rank.month, params);
  const measures = (alias: string) => MEASURE_NAMES.map((c) => `${alias}.${c}`).join(", ");
  return `WITH f AS MATERIALIZED (${factorsSql(rank.factors, params)}),
  prefix AS MATERIALIZED (
    SELECT platform, campaign_id, ${ratio} AS score FROM campaign_monthly WHERE ${month()}${
    "atLeast" in reach ? ` AND ${ratio} >= ${params.add(reach.atLeast, "::float8")}` : ""
  }
    ORDER BY ${ratio} DESC NULLS LAST, platform, campaign_id, currency${
    "rows" in reach ? ` LIMIT ${params.add(reach.rows, "::int")}` : ""
  }),
  unbounded AS MATERIALIZED (
    SELECT platform, campaign_id FROM campaign_monthly
    WHERE ${month()} AND ${ratio} IS NULL AND revenue > 0),
  seen AS MATERIALIZED (
    SELECT platform, campaign_id FROM prefix UNION SELECT platform, campaign_id FROM unbounded),
  seen_monthly AS MATERIALIZED (
    SELECT s.platform, s.campaign_id, m.currency, ${measures("m")}
    FROM seen s CROSS JOIN LATERAL (
      SELECT currency, ${MEASURE_NAMES.join(", ")} FROM campaign_monthly
      WHERE ${month()} AND platform = s.platform AND campaign_id = s.campaign_id OFFSET 0) m),
  seen_days AS MATERIALIZED (
    SELECT s.platform, s.campaign_id, d.currency, d.day, ${measures("d")}
    FROM (SELECT DISTINCT platform, campaign_id FROM seen_monthly
          WHERE currency = ANY(${currencies}::bpchar[])) s
    CROSS JOIN LATERAL (
      SELECT currency, day, ${MEASURE_NAMES.join(", ")} FROM campaign_daily
      WHERE tenant_id = ${tenant} AND campaign_id = s.campaign_id AND platform = s.platform
        AND day >= ${monthStart} AND day < ${monthEnd}
        AND currency = ANY(${currencies}::bpchar[]) OFFSET 0) d),
  scored AS MATERIALIZED (
    SELECT platform, campaign_id, ${metricSql("roas", summed)} AS score FROM (
      SELECT platform, campaign_id, revenue, cost FROM seen_monthly
      WHERE currency = ${params.add(target)}
      UNION ALL
      SELECT d.platform, d.campaign_id, d.revenue * f.k, d.cost * f.k
      FROM seen_days d JOIN f ON f.currency = d.currency AND f.day = d.day) x
    GROUP BY 1, 2),
  winners AS MATERIALIZED (
    SELECT platform, campaign_id FROM scored
    ORDER BY score DESC NULLS LAST, platform, campaign_id LIMIT ${limit}),
  checks AS (
    SELECT (SELECT count(*) FROM prefix)::int AS prefix_rows,
           (SELECT min(score) FROM prefix) AS last_score,
           (SELECT bool_or(score IS NULL) FROM prefix) AS reached_nulls,
           (SELECT score FROM scored WHERE score IS NOT NULL
            ORDER BY score DESC OFFSET ${limit} - 1 LIMIT 1) AS threshold)
  SELECT w.platform, w.campaign_id, w.currency, w.day, ${MEASURE_TEXT},
         c.name AS campaign_name, k.prefix_rows, k.last_score, k.reached_nulls, k.threshold
  FROM (
    SELECT m.platform, m.campaign_id, m.currency, NULL::text AS day, ${measures("m")}
    FROM seen_monthly m JOIN winners USING (platform, campaign_id)
    WHERE m.currency = ${params.add(target)}
    UNION ALL
    SELECT d.platform, d.campaign_id, d.currency, to_char(d.day, 'YYYY-MM-DD'), ${measures("d")}
    FROM seen_days d JOIN winners USING (platform, campaign_id)) w
  CROSS JOIN checks k
  LEFT JOIN campaigns c ON c.tenant_id = ${tenant} AND c.platform = w.platform
    AND c.campaign_id = w.campaign_id`;
}

/** ρ: the largest quotient of a currency's largest and smallest factor, widened a little. */
function factorSpread(factors: readonly CurrencyDayFactor[]): number {
  const range = new Map<string, { lo: number; hi: number }>();
  for (const { currency, factor } of factors) {
    const k = Number(factor);
    const seen = range.get(currency);
    if (!seen) range.set(currency, { lo: k, hi: k });
    else range.set(currency, { lo: Math.min(seen.lo, k), hi: Math.max(seen.hi, k) });
  }
  let spread = 1;
  for (const { lo, hi } of range.values()) spread = Math.max(spread, hi / lo);
  return spread * (1 + 1e-9);
}

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
      return { top: [...top.values()], rows: found.map((row) => DayRowSchema.parse(row)), names };
    }
    const found = await this.db.query<{ platform: string; campaign_id: string }>(
      rangeRankSql({ ...rank, sameParts, dayParts, timeZone }),
      params.values,
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
