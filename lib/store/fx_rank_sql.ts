/**
 * The SQL of converted rankings of campaigns (lib/fx/queries.ts ranks by converted
 * money): which campaigns can rank, read with as few rows per day as the range allows.
 * Built from the planner's parts (range_plan.ts) and read by SqlFxStore.rankCampaigns.
 */
import type { z } from "zod";
import type { RankOptions, SelectionSchema } from "./metrics_store.ts";
import {
  asIs,
  metricSql,
  oneMonthFilters,
  type Params,
  type RangePart,
  summed,
  unionOf,
} from "./sql_queries.ts";
import { MEASURES, type MetricName } from "../schema.ts";
import type { CurrencyDayFactor } from "./fx_store.ts";

export const MONEY = new Set(["cost", "revenue"]);
const MEASURE_TEXT = MEASURES.map((c) => `w.${c}::text AS ${c}`).join(", ");

/** The measures a ranking metric is computed from (a ranking sums only those). */
export function metricColumns(metric: MetricName): string[] {
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
export function foreignFilter(target: string, currencies?: readonly string[]) {
  return (params: Params) => [
    currencies
      ? `currency = ANY(${params.add(currencies)}::bpchar[])`
      : `currency <> ${params.add(target)}`,
  ];
}

export interface RankSql extends Omit<RankOptions, "groupBy"> {
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
export function rangeRankSql(
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
export function oneMonthRankSql(rank: RankSql & { month: Date }): string {
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
      MEASURES.map((c) => `${alias}.${c}`).join(", ")
    }`;
  // NOT IN over a hashed subplan: one hash of the foreign campaigns, not a scan of them
  // per row of the index (the columns are NOT NULL, so NOT IN means "not among").
  const best = `SELECT platform, campaign_id, currency, ${MEASURES.join(", ")},
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
    SELECT x.platform, x.campaign_id, t.currency, ${MEASURES.map((c) => `t.${c}`).join(", ")}
    FROM foreign_campaigns x CROSS JOIN LATERAL (
      SELECT currency, ${MEASURES.join(", ")} FROM campaign_monthly
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
    SELECT c.platform, c.campaign_id, d.currency, d.day, ${MEASURES.map((m) => `d.${m}`).join(", ")}
    FROM candidates c
    CROSS JOIN LATERAL (
      SELECT currency, day, ${MEASURES.join(", ")} FROM campaign_daily
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
        MEASURES.map((c) => `d.${c}`).join(", ")
      } FROM candidate_days d JOIN winners USING (platform, campaign_id)`,
    ])
  }`;
}

/** Rows of the ROAS index a top-N ranking reads first, per rank (see roasPrefixRankSql). */
export const ROAS_PREFIX_PER_RANK = 24;
/**
 * Up to this spread of factors a prefix that did not settle the top is read again down
 * to the ratio that does (threshold / ρ); beyond, that could be most of the month, and
 * the bounds of oneMonthRankSql decide instead.
 */
export const ROAS_PREFIX_MAX_SPREAD = 1.25;

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
export function roasPrefixRankSql(
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
  const measures = (alias: string) => MEASURES.map((c) => `${alias}.${c}`).join(", ");
  return `WITH f AS MATERIALIZED (${factorsSql(rank.factors, params)}),
  prefix AS MATERIALIZED (
    SELECT platform, campaign_id, currency, ${MEASURES.join(", ")}, ${ratio} AS score
    FROM campaign_monthly WHERE ${month()}${
    "atLeast" in reach ? ` AND ${ratio} >= ${params.add(reach.atLeast, "::float8")}` : ""
  }
    ORDER BY ${ratio} DESC NULLS LAST, platform, campaign_id, currency${
    "rows" in reach ? ` LIMIT ${params.add(reach.rows, "::int")}` : ""
  }),
  unbounded AS MATERIALIZED (
    SELECT platform, campaign_id, currency, ${MEASURES.join(", ")} FROM campaign_monthly
    WHERE ${month()} AND ${ratio} IS NULL AND revenue > 0),
  read_rows AS MATERIALIZED (
    SELECT platform, campaign_id, currency, ${MEASURES.join(", ")} FROM prefix
    UNION SELECT * FROM unbounded),
  seen AS MATERIALIZED (SELECT DISTINCT platform, campaign_id FROM read_rows),
  foreign_rows AS MATERIALIZED (
    SELECT platform, campaign_id, currency, ${MEASURES.join(", ")} FROM campaign_monthly
    WHERE ${month()} AND currency = ANY(${currencies}::bpchar[])),
  seen_monthly AS MATERIALIZED (
    SELECT * FROM read_rows
    UNION
    SELECT f.* FROM foreign_rows f JOIN seen USING (platform, campaign_id)
    UNION
    SELECT s.platform, s.campaign_id, m.currency, ${measures("m")}
    FROM (SELECT platform, campaign_id FROM seen
          EXCEPT SELECT platform, campaign_id FROM read_rows
          WHERE currency = ${params.add(target)}) s
    CROSS JOIN LATERAL (
      SELECT currency, ${MEASURES.join(", ")} FROM campaign_monthly
      WHERE ${month()} AND currency = ${params.add(target)}
        AND platform = s.platform AND campaign_id = s.campaign_id OFFSET 0) m),
  seen_days AS MATERIALIZED (
    SELECT s.platform, s.campaign_id, d.currency, d.day, ${measures("d")}
    FROM (SELECT DISTINCT platform, campaign_id FROM seen_monthly
          WHERE currency = ANY(${currencies}::bpchar[])) s
    CROSS JOIN LATERAL (
      SELECT currency, day, ${MEASURES.join(", ")} FROM campaign_daily
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
export function factorSpread(factors: readonly CurrencyDayFactor[]): number {
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
