/**
 * The SQL text of the store and the builders that assemble it: the staged, set-based
 * upsert that applies each write's change to the rollups, the metric expressions, and the split of a
 * time range into the parts a rollup answers and the ragged edges read from raw rows.
 * Plain PostgreSQL, so the same text runs on PGlite and on a server.
 */
import type { z } from "zod";
import type { SelectionSchema } from "./metrics_store.ts";
import { MEASURES, type MetricName } from "../schema.ts";
import { zoneOffsetMs } from "../dates.ts";
import type { RangePart } from "./range_plan.ts";

/**
 * Rows staged and applied at a time: bounds the COPY text held in memory and the size of
 * one set-based statement (its hash aggregates and sorts), not a protocol limit.
 */
export const ROWS_PER_STATEMENT = 50_000;

export const SUMS_SELECT = `sum(impressions)::text AS impressions, sum(clicks)::text AS clicks,
  sum(conversions)::text AS conversions, sum(cost)::text AS cost, sum(revenue)::text AS revenue`;

const MEASURE_COLUMNS = MEASURES.join(", ");

export const MEASURE_TEXT = `impressions::text AS impressions, clicks::text AS clicks,
  conversions::text AS conversions, cost::text AS cost, revenue::text AS revenue`;

/**
 * The staging table a batch is COPied into before one set-based statement applies it:
 * temporary (per connection, never WAL-logged), emptied at every commit, created by the
 * first write of each connection. Its rows are unique by the raw key (the store keeps the
 * last of duplicates before staging).
 */
export const STAGE_TABLE = "pg_temp.metric_stage";

/** The staged columns, in COPY order: the raw row as campaign_metrics stores it. */
export const STAGE_COLUMNS = [
  "tenant_id",
  "platform",
  "account_id",
  "campaign_id",
  "ts",
  "impressions",
  "clicks",
  "conversions",
  "cost",
  "revenue",
  "currency",
  "source",
] as const;

export const CREATE_STAGE_SQL = `
CREATE TEMP TABLE metric_stage (
  tenant_id text NOT NULL, platform text NOT NULL, account_id text NOT NULL,
  campaign_id text NOT NULL, ts timestamptz NOT NULL, impressions bigint NOT NULL,
  clicks bigint NOT NULL, conversions numeric NOT NULL, cost numeric NOT NULL,
  revenue numeric NOT NULL, currency char(3) NOT NULL, source text NOT NULL
) ON COMMIT DELETE ROWS`;

/**
 * Takes the transaction's advisory lock of each ad account ($1: "tenant/platform/account"
 * keys, distinct), in one order for every writer so that two batches sharing accounts
 * cannot deadlock, and says whether this connection already has its staging table.
 *
 * It also sets two executor settings for the rest of this transaction only:
 * - `jit` off: the planner has no statistics of the staging table and costs the
 *   restatement path above the JIT thresholds; compiling it took 80 ms to over a second
 *   for a statement that runs in ~300 ms (EXPLAIN in bench/RESULTS.md);
 * - `work_mem` at least 32 MB: the hourly change of a 20,000-row batch is ~10,000 groups
 *   of NUMERIC sums (8 MB), which the default 4 MB spills to disk.
 */
export const LOCK_ACCOUNTS_SQL = `
SELECT (SELECT count(*) FROM (
          SELECT pg_advisory_xact_lock(hashtextextended(account_key, 20240424))
          FROM unnest($1::text[]) AS k(account_key)
          ORDER BY account_key) locks)::int AS locked,
       to_regclass('${STAGE_TABLE}') IS NOT NULL AS staged,
       set_config('jit', 'off', true) AS jit,
       CASE WHEN pg_size_bytes(current_setting('work_mem')) < 32 * 1024 * 1024
            THEN set_config('work_mem', '32MB', true) END AS work_mem`;

const ROLLUP_DELTA = (table: string) => `
  impressions = ${table}.impressions + EXCLUDED.impressions,
  clicks = ${table}.clicks + EXCLUDED.clicks,
  conversions = ${table}.conversions + EXCLUDED.conversions,
  cost = ${table}.cost + EXCLUDED.cost,
  revenue = ${table}.revenue + EXCLUDED.revenue`;

const NONZERO_DELTA = `HAVING sum(impressions) <> 0 OR sum(clicks) <> 0
  OR sum(conversions) <> 0 OR sum(cost) <> 0 OR sum(revenue) <> 0`;

const SUMMED = `sum(impressions) AS impressions, sum(clicks) AS clicks,
  sum(conversions) AS conversions, sum(cost) AS cost, sum(revenue) AS revenue`;

const RAW_COLUMNS = STAGE_COLUMNS.join(", ");
const RAW_KEY_MATCH = (a: string, b: string) =>
  ["tenant_id", "campaign_id", "platform", "account_id", "ts"]
    .map((column) => `${a}.${column} = ${b}.${column}`).join(" AND ");

/**
 * A day's new running total (sql/009): the change up to that day, plus the stored month
 * total for days past the stored last day (every row of a campaign-month carries the
 * same stored values, hence max()).
 */
const MTD_VALUES = MEASURES.map((m) =>
  `sum(sum(${m})) OVER w + CASE WHEN day > max(old_last) THEN max(old_${m}) ELSE 0 END`
).join(",\n    ");

/**
 * Applies the staged batch in one statement: the raw rows, the change of each rollup and
 * the catalog. Each rollup gets the difference the batch makes, new values minus the
 * ones they replace, so a restated row replaces its old numbers everywhere and a
 * replayed batch changes nothing. The writers of an account are serialized by
 * LOCK_ACCOUNTS_SQL, so the stored rows this statement reads are the ones it replaces.
 *
 * Two ways in, chosen by `fresh` at run time:
 * - a batch of new rows only (no stored row of any staged series within the batch's
 *   time span: one index probe per series) is inserted as is, with no lookup of replaced
 *   values and no conflict handling; its rows are the whole change;
 * - any other batch looks up the stored row of each staged key once (LEFT JOIN), keeps
 *   the keys that are new or whose values differ and writes them with one
 *   INSERT … ON CONFLICT (routed to each row's month partition); the change is their new values minus their old ones (an
 *   old row in another currency leaves that currency's rollups).
 *
 * The daily change is summed once; the change per campaign and day (across accounts)
 * is summed from it, and the monthly change, with the span of days it touches, from that
 * (hourly rows of a month become one row per campaign and day first). The month-to-date
 * running totals (sql/009) add the change up to each day to every day from the first
 * changed one to the month's last day with data. The catalog comes as
 * parameters, one element per campaign ($1..$9), from the store.
 */
export const APPLY_STAGED_SQL = `
WITH fresh AS (
  SELECT NOT EXISTS (
    SELECT 1
    FROM (SELECT tenant_id, campaign_id, platform, account_id, min(ts) AS first_ts,
                 max(ts) AS last_ts
          FROM ${STAGE_TABLE} GROUP BY 1, 2, 3, 4) series
    WHERE EXISTS (
      SELECT 1 FROM campaign_metrics m
      WHERE m.tenant_id = series.tenant_id AND m.campaign_id = series.campaign_id
        AND m.platform = series.platform AND m.account_id = series.account_id
        AND m.ts BETWEEN series.first_ts AND series.last_ts)) AS all_new
),
inserted AS (
  INSERT INTO campaign_metrics (${RAW_COLUMNS})
  SELECT ${RAW_COLUMNS} FROM ${STAGE_TABLE} WHERE (SELECT all_new FROM fresh)
  RETURNING 1
),
changed AS (
  SELECT s.*, o.impressions AS old_impressions, o.clicks AS old_clicks,
         o.conversions AS old_conversions, o.cost AS old_cost, o.revenue AS old_revenue,
         o.currency AS old_currency, o.stored_at, o.stored_at IS NOT NULL AS replaces
  FROM ${STAGE_TABLE} s
  -- One primary-key probe per staged row (LIMIT keeps the planner from hashing the
  -- whole table: it has no statistics of the staging table; over month partitions a
  -- join is planned as a sort and merge of every partition, while each probe is pruned
  -- to the one partition its ts falls in).
  LEFT JOIN LATERAL (
    SELECT true AS stored_at, o.* FROM campaign_metrics o
    WHERE ${RAW_KEY_MATCH("o", "s")} LIMIT 1
  ) o ON true
  WHERE NOT (SELECT all_new FROM fresh)
    AND (o.stored_at IS NULL
      OR (o.impressions, o.clicks, o.conversions, o.cost, o.revenue, o.currency, o.source)
         IS DISTINCT FROM (s.impressions, s.clicks, s.conversions, s.cost, s.revenue,
                           s.currency, s.source))
),
-- New keys and the stored rows that differ, in one insert: each row is routed to its
-- month partition and a stored key there is rewritten (a rewrite by row address would
-- visit every partition: a row address is only unique within one).
written AS (
  INSERT INTO campaign_metrics AS m (${RAW_COLUMNS})
  SELECT ${RAW_COLUMNS} FROM changed
  ON CONFLICT ON CONSTRAINT campaign_metrics_key DO UPDATE SET
    impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks,
    conversions = EXCLUDED.conversions, cost = EXCLUDED.cost, revenue = EXCLUDED.revenue,
    currency = EXCLUDED.currency, source = EXCLUDED.source, updated_at = now()
  RETURNING 1
),
changes AS NOT MATERIALIZED (
  SELECT tenant_id, platform, account_id, campaign_id, currency, ts, ${MEASURE_COLUMNS}
  FROM ${STAGE_TABLE} WHERE (SELECT all_new FROM fresh)
  UNION ALL
  SELECT tenant_id, platform, account_id, campaign_id, currency, ts, ${MEASURE_COLUMNS}
  FROM changed
  UNION ALL
  SELECT tenant_id, platform, account_id, campaign_id, old_currency, ts, -old_impressions,
         -old_clicks, -old_conversions, -old_cost, -old_revenue
  FROM changed WHERE replaces
),
daily_change AS (
  SELECT tenant_id, (ts AT TIME ZONE 'UTC')::date AS day, platform, account_id, campaign_id,
         currency, ${SUMMED}
  FROM changes GROUP BY 1, 2, 3, 4, 5, 6
),
daily AS (
  INSERT INTO campaign_daily AS r (tenant_id, day, platform, account_id, campaign_id, currency,
    ${MEASURE_COLUMNS})
  SELECT * FROM daily_change
  WHERE impressions <> 0 OR clicks <> 0 OR conversions <> 0 OR cost <> 0 OR revenue <> 0
  ON CONFLICT (tenant_id, day, platform, campaign_id, account_id, currency) DO UPDATE SET
  ${ROLLUP_DELTA("r")}
  RETURNING 1
),
-- The change per campaign (across its accounts) and day, and per campaign and month
-- with the first and last day it touches: the running totals' span (sql/009).
series_change AS (
  SELECT tenant_id, day, platform, campaign_id, currency, ${SUMMED}
  FROM daily_change GROUP BY 1, 2, 3, 4, 5 ${NONZERO_DELTA}
),
month_change AS (
  SELECT tenant_id, date_trunc('month', day::timestamp)::date AS month, platform, campaign_id,
         currency, ${SUMMED}, min(day) AS first_day, max(day) AS last_day
  FROM series_change GROUP BY 1, 2, 3, 4, 5
),
monthly AS (
  INSERT INTO campaign_monthly AS r (tenant_id, month, platform, campaign_id, currency,
    ${MEASURE_COLUMNS}, first_day, last_day)
  SELECT * FROM month_change
  ON CONFLICT (tenant_id, month, platform, campaign_id, currency) DO UPDATE SET
  ${ROLLUP_DELTA("r")},
  first_day = least(r.first_day, EXCLUDED.first_day),
  last_day = greatest(r.last_day, EXCLUDED.last_day)
  RETURNING 1
),
-- Running totals: every day from the first changed one to the later of the last changed
-- one and the stored last day gets the change up to that day (a stored row adds it);
-- days past the stored last day start from the stored month total, and a gap between the
-- stored last day and the first changed one is filled with it. All CTEs read the rows
-- as they were before this statement, so o is the month before the change.
mtd AS (
  INSERT INTO campaign_mtd AS r (tenant_id, day, platform, campaign_id, currency,
    ${MEASURE_COLUMNS})
  SELECT tenant_id, day, platform, campaign_id, currency,
    ${MTD_VALUES}
  FROM (
    SELECT tenant_id, day, platform, campaign_id, currency, ${MEASURE_COLUMNS},
           NULL::date AS old_last, ${MEASURES.map((m) => `NULL::numeric AS old_${m}`).join(", ")}
    FROM series_change
    UNION ALL
    -- Every day of the span to write, at a change of zero, with the stored month.
    SELECT c.tenant_id, t.at::date, c.platform, c.campaign_id, c.currency,
           ${MEASURES.map(() => "0").join(", ")}, o.last_day,
           ${MEASURES.map((m) => `o.${m}`).join(", ")}
    FROM month_change c
    -- One primary-key probe per campaign-month (a join would scan the whole rollup).
    LEFT JOIN LATERAL (
      SELECT * FROM campaign_monthly o
      WHERE o.tenant_id = c.tenant_id AND o.month = c.month AND o.platform = c.platform
        AND o.campaign_id = c.campaign_id AND o.currency = c.currency LIMIT 1
    ) o ON true
    CROSS JOIN LATERAL generate_series(least(c.first_day, o.last_day + 1)::timestamp,
      greatest(c.last_day, o.last_day)::timestamp, interval '1 day') AS t(at)
  ) days
  GROUP BY tenant_id, day, platform, campaign_id, currency
  WINDOW w AS (PARTITION BY tenant_id, date_trunc('month', day::timestamp), platform,
               campaign_id, currency ORDER BY day)
  ON CONFLICT (tenant_id, day, platform, campaign_id, currency) DO UPDATE SET
  ${ROLLUP_DELTA("r")}
  RETURNING 1
),
hourly AS (
  INSERT INTO platform_hourly AS r (tenant_id, hour, platform, currency, ${MEASURE_COLUMNS})
  SELECT tenant_id, date_trunc('hour', ts), platform, currency, ${SUMMED}
  FROM changes GROUP BY 1, 2, 3, 4 ${NONZERO_DELTA}
  ON CONFLICT (tenant_id, hour, platform, currency) DO UPDATE SET ${ROLLUP_DELTA("r")}
  RETURNING 1
),
catalog AS (
  INSERT INTO campaigns AS c (tenant_id, platform, campaign_id, account_id, name, status,
    currency, first_seen, last_seen)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::timestamptz[], $9::timestamptz[])
  ON CONFLICT (tenant_id, platform, campaign_id) DO UPDATE SET
    account_id = EXCLUDED.account_id,
    name = coalesce(EXCLUDED.name, c.name),
    status = coalesce(EXCLUDED.status, c.status),
    currency = EXCLUDED.currency,
    first_seen = least(c.first_seen, EXCLUDED.first_seen),
    last_seen = greatest(c.last_seen, EXCLUDED.last_seen),
    updated_at = now()
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int + (SELECT count(*) FROM written)::int
  AS written`;

export const UPSERT_CAMPAIGNS_SQL = `
INSERT INTO campaigns AS c (tenant_id, platform, campaign_id, account_id, name, status, started_at)
SELECT DISTINCT ON (tenant_id, platform, campaign_id) tenant_id, platform, campaign_id,
       account_id, name, status, started_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::timestamptz[]) WITH ORDINALITY
     AS i(tenant_id, platform, campaign_id, account_id, name, status, started_at, ord)
ORDER BY tenant_id, platform, campaign_id, ord DESC
ON CONFLICT (tenant_id, platform, campaign_id) DO UPDATE SET
  account_id = EXCLUDED.account_id,
  name = coalesce(EXCLUDED.name, c.name),
  status = coalesce(EXCLUDED.status, c.status),
  started_at = coalesce(EXCLUDED.started_at, c.started_at),
  updated_at = now()`;

/**
 * SQL for each ranking metric over summed columns (`total` wraps a column: `sum(x)`, or
 * `x` where one row already is the sum). Ratios are ratios of sums; a zero denominator
 * is NULL. The sums stay exact NUMERIC; only the ratio used for ordering is a float
 * (numeric division is ~10x slower, and ordering needs no more than float precision).
 */
export function metricSql(metric: MetricName, total: (column: string) => string): string {
  const ratio = (top: string, bottom: string, scale = "") =>
    `${total(top)}::float8${scale} / nullif(${total(bottom)}, 0)::float8`;
  switch (metric) {
    case "ctr":
      return ratio("clicks", "impressions");
    case "roas":
      return ratio("revenue", "cost");
    case "cpa":
      return ratio("cost", "conversions");
    case "cpc":
      return ratio("cost", "clicks");
    case "cpm":
      return ratio("cost", "impressions", " * 1000");
    case "cvr":
      return ratio("conversions", "clicks");
    default:
      return total(metric);
  }
}

export const summed = (column: string) => `sum(${column})`;
export const asIs = (column: string) => column;

/** Collects positional parameters while a statement is assembled. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = ""): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

export {
  isOneWholeMonth,
  planBuckets,
  planRange,
  planZoneDays,
  type RangeGrain,
  type RangePart,
  type RangeShape,
  runningTotals,
  type Source,
} from "./range_plan.ts";

const HOUR_MS = 3_600_000;
const isoDate = (date: Date) => date.toISOString().slice(0, 10);

const MONTH_MS = 30 * 24 * HOUR_MS;

/**
 * True when every UTC offset the zone has over [from, to) is a whole number of hours,
 * so its days start on UTC hour boundaries (sampled monthly: offsets change at most a
 * few times a year). Open bounds are taken as the last two years.
 */
export function isWholeHourZone(zone: string, from?: Date, to?: Date): boolean {
  if (zone === "UTC") return true;
  const end = (to ?? new Date()).getTime();
  const start = from?.getTime() ?? end - 24 * MONTH_MS;
  const step = Math.max(MONTH_MS / 2, (end - start) / 400);
  for (let at = start; at <= end + step; at += step) {
    if (zoneOffsetMs(new Date(Math.min(at, end)), zone) % HOUR_MS !== 0) return false;
  }
  return true;
}

/** One SELECT per range part, each yielding the same columns, glued with UNION ALL. */
export function unionOf(
  parts: readonly RangePart[],
  where: z.output<typeof SelectionSchema>,
  params: Params,
  timeZone: string,
  extra: (params: Params) => string[] = () => [],
): string {
  return parts.map((part) => partSql(part, where, params, timeZone, extra(params)))
    .join("\nUNION ALL\n");
}

/** One part's rows: platform, campaign_id (NULL per platform), currency, at (local), measures. */
export function partSql(
  part: RangePart,
  where: z.output<typeof SelectionSchema>,
  params: Params,
  timeZone: string,
  extra: readonly string[] = [],
): string {
  const filters = [`tenant_id = ${params.add(where.tenantId)}`, ...extra];
  if (where.platforms.length) {
    filters.push(`platform = ANY(${params.add(where.platforms)}::text[])`);
  }
  if (where.currency) filters.push(`currency = ${params.add(where.currency)}`);
  const bounds = (column: string, value: (date: Date) => string, cast: string) => {
    if (part.from) filters.push(`${column} >= ${params.add(value(part.from), cast)}`);
    if (part.to) filters.push(`${column} < ${params.add(value(part.to), cast)}`);
  };
  const instant = (date: Date) => date.toISOString();
  const campaignFilter = () => {
    if (where.campaignIds.length) {
      filters.push(`campaign_id = ANY(${params.add(where.campaignIds)}::text[])`);
    }
  };
  // A labelled part (series) lies inside one bucket: its rows are placed at the bucket.
  const at = (local: string) => part.bucket ? `${params.add(part.bucket)}::timestamp` : local;
  switch (part.source) {
    case "raw":
      campaignFilter();
      bounds("ts", instant, "::timestamptz");
      if (part.day && !where.campaignIds.length) {
        const local = at(`m.ts AT TIME ZONE ${params.add(timeZone)}`);
        return edgeSql(part.day, filters, params, local);
      }
      if (part.seriesLookup && !where.campaignIds.length) {
        const local = at(`m.ts AT TIME ZONE ${params.add(timeZone)}`);
        return seriesLookupSql("campaign_metrics", "ts", part, filters, params, local);
      }
      return `SELECT platform, campaign_id, currency,
        ${at(`ts AT TIME ZONE ${params.add(timeZone)}`)} AS at, ${MEASURE_COLUMNS}
        FROM campaign_metrics WHERE ${filters.join(" AND ")}`;
    case "campaign_monthly":
      campaignFilter();
      bounds("month", isoDate, "::date");
      return `SELECT platform, campaign_id, currency, ${at("month::timestamp")} AS at,
        ${MEASURE_COLUMNS} FROM campaign_monthly WHERE ${filters.join(" AND ")}`;
    case "campaign_daily":
      campaignFilter();
      bounds("day", isoDate, "::date");
      if (part.seriesLookup && !where.campaignIds.length) {
        return seriesLookupSql(
          "campaign_daily",
          "day",
          part,
          filters,
          params,
          at("m.day::timestamp"),
        );
      }
      return `SELECT platform, campaign_id, currency, ${at("day::timestamp")} AS at,
        ${MEASURE_COLUMNS} FROM campaign_daily WHERE ${filters.join(" AND ")}`;
    case "campaign_mtd":
      campaignFilter();
      return runningTotalSql(part, filters, params);
    case "platform_hourly":
      bounds("hour", instant, "::timestamptz");
      return `SELECT platform, NULL::text AS campaign_id, currency,
        ${at(`hour AT TIME ZONE ${params.add(timeZone)}`)} AS at, ${MEASURE_COLUMNS}
        FROM platform_hourly WHERE ${filters.join(" AND ")}`;
  }
}

const monthOf = (date: Date) => `${date.toISOString().slice(0, 7)}-01`;

/**
 * Each campaign's month-to-date total at a day (sql/009), signed: its running-total row
 * of that day, or, when the campaign's last day of the month is earlier, the month's
 * total (no row exists past the last day). Before its first day a campaign has neither.
 */
function runningTotalSql(part: RangePart, filters: readonly string[], params: Params): string {
  const day = params.add(part.day, "::date");
  const month = params.add(`${part.day!.slice(0, 7)}-01`, "::date");
  const measures = MEASURES.map((m) => `${part.sign === -1 ? "-" : ""}${m} AS ${m}`).join(", ");
  return `SELECT platform, campaign_id, currency, NULL::timestamp AS at, ${measures}
    FROM campaign_mtd WHERE ${filters.join(" AND ")} AND day = ${day}
    UNION ALL
    SELECT platform, campaign_id, currency, NULL::timestamp AS at, ${measures}
    FROM campaign_monthly WHERE ${filters.join(" AND ")} AND month = ${month}
      AND last_day < ${day}`;
}

/**
 * Rows of a range of raw rows (by primary key) or daily rollup rows (by the series index
 * of sql/008), for the series (platform, campaign) that the monthly rollup lists over the
 * months the range touches: a converted read wants the money of the currencies other
 * than the target, a few series of many, which a scan of the time range would find only
 * by reading every row (OFFSET 0 keeps the planner from flattening the lookup back into
 * such a scan and a hash join).
 */
function seriesLookupSql(
  table: "campaign_metrics" | "campaign_daily",
  time: "ts" | "day",
  part: RangePart,
  filters: readonly string[],
  params: Params,
  at: string,
): string {
  const scoped = filters.map((filter) => `m.${filter}`);
  const series = filters.filter((filter) => !filter.startsWith(`${time} `));
  if (part.from) series.push(`month >= ${params.add(monthOf(part.from), "::date")}`);
  if (part.to) series.push(`month <= ${params.add(monthOf(part.to), "::date")}`);
  return `SELECT m.platform, m.campaign_id, m.currency, ${at} AS at, ${
    MEASURE_COLUMNS.split(", ").map((c) => `m.${c}`).join(", ")
  }
    FROM (SELECT DISTINCT platform, campaign_id FROM campaign_monthly
          WHERE ${series.join(" AND ")}) s
    CROSS JOIN LATERAL (SELECT * FROM ${table} m WHERE ${scoped.join(" AND ")}
      AND m.platform = s.platform AND m.campaign_id = s.campaign_id OFFSET 0) m`;
}

/**
 * The filters of one whole month of `campaign_monthly` (the month as an equality, so
 * the ROAS index of sql/006 hands over its rows in order), as `partSql` filters it.
 */
export function oneMonthFilters(
  where: z.output<typeof SelectionSchema>,
  month: Date,
  params: Params,
): string {
  const filters = [
    `tenant_id = ${params.add(where.tenantId)}`,
    `month = ${params.add(month.toISOString().slice(0, 10), "::date")}`,
  ];
  if (where.platforms.length) {
    filters.push(`platform = ANY(${params.add(where.platforms)}::text[])`);
  }
  if (where.currency) filters.push(`currency = ${params.add(where.currency)}`);
  if (where.campaignIds.length) {
    filters.push(`campaign_id = ANY(${params.add(where.campaignIds)}::text[])`);
  }
  return filters.join(" AND ");
}

/**
 * Raw rows of a few hours inside one UTC day, by primary key: only the series (platform,
 * campaign, account) with a daily row that day can have rows with any measure there (a
 * raw row with all-zero measures is left out, as every rollup leaves it out). A time
 * range scan would read every row whose block range overlaps (BRIN), which is all of
 * them when rows were not written in time order.
 */
function edgeSql(
  day: string,
  filters: readonly string[],
  params: Params,
  at: string,
): string {
  // filters: tenant first, then platform/currency/campaign/time filters on bare columns.
  const scoped = filters.map((filter) => `m.${filter}`);
  const series = filters.filter((filter) => !filter.startsWith("ts "));
  return `SELECT m.platform, m.campaign_id, m.currency, ${at} AS at, ${
    MEASURE_COLUMNS.split(", ").map((c) => `m.${c}`).join(", ")
  }
    FROM (SELECT DISTINCT platform, campaign_id, account_id FROM campaign_daily
          WHERE ${series.join(" AND ")} AND day = ${params.add(day, "::date")}) s
    CROSS JOIN LATERAL (SELECT * FROM campaign_metrics m WHERE ${scoped.join(" AND ")}
      AND m.platform = s.platform AND m.campaign_id = s.campaign_id
      AND m.account_id = s.account_id OFFSET 0) m`;
}
