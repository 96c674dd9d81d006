/**
 * The one SQL implementation of MetricsStore. Every query is plain PostgreSQL, so the
 * same text runs on PGlite and on a server.
 *
 * Writes: a batch is one `unnest` statement that upserts the raw rows and applies the
 * change (new values minus the replaced ones) to the monthly and hourly rollups and the
 * catalog. Writers of one ad account are serialized with a transaction-scoped advisory
 * lock, so the "replaced values" each writer reads are exactly the ones it replaces.
 *
 * Reads: a time range is split into the whole UTC days or months a rollup can answer
 * and the ragged edges, which are read from the raw rows; the answer is identical to
 * summing raw rows, only faster.
 */
import { z } from "zod";
import type { SqlDriver, SqlExecutor } from "./driver.ts";
import {
  type CampaignMetadata,
  type CampaignPage,
  type CampaignQuery,
  CampaignSortSchema,
  type CampaignSummary,
  CampaignSummarySchema,
  InvalidCursorError,
  type MetricsStore,
  PlatformSumsRowSchema,
  type RankOptions,
  type RankRow,
  RankRowSchema,
  type Selection,
  SelectionSchema,
  type SeriesRow,
  SeriesRowSchema,
  SumsRowSchema,
  type TotalsResult,
  type UpsertResult,
} from "./metrics_store.ts";
import { type MetricName, type MetricRow, type Platform, validateRows } from "../schema.ts";
import { zoneOffsetMs } from "../dates.ts";

/** Rows per statement: keeps each statement's arrays well inside protocol and memory limits. */
const ROWS_PER_STATEMENT = 20_000;

const SUMS_SELECT = `sum(impressions)::text AS impressions, sum(clicks)::text AS clicks,
  sum(conversions)::text AS conversions, sum(cost)::text AS cost, sum(revenue)::text AS revenue`;

const MEASURE_COLUMNS = "impressions, clicks, conversions, cost, revenue";

const MEASURE_TEXT = `impressions::text AS impressions, clicks::text AS clicks,
  conversions::text AS conversions, cost::text AS cost, revenue::text AS revenue`;

const LOCK_ACCOUNTS_SQL = `
SELECT pg_advisory_xact_lock(hashtextextended(account_key, 20240424))
FROM (SELECT DISTINCT t || '/' || p || '/' || a AS account_key
      FROM unnest($1::text[], $2::text[], $3::text[]) AS k(t, p, a)) keys
ORDER BY account_key`;

const ROLLUP_DELTA = (table: string) => `
  impressions = ${table}.impressions + EXCLUDED.impressions,
  clicks = ${table}.clicks + EXCLUDED.clicks,
  conversions = ${table}.conversions + EXCLUDED.conversions,
  cost = ${table}.cost + EXCLUDED.cost,
  revenue = ${table}.revenue + EXCLUDED.revenue`;

const NONZERO_DELTA = `HAVING sum(impressions) <> 0 OR sum(clicks) <> 0
  OR sum(conversions) <> 0 OR sum(cost) <> 0 OR sum(revenue) <> 0`;

const UPSERT_SQL = `
WITH input AS (
  SELECT DISTINCT ON (tenant_id, campaign_id, platform, account_id, ts) *
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::timestamptz[], $8::bigint[], $9::bigint[], $10::numeric[], $11::numeric[],
              $12::numeric[], $13::text[], $14::text[])
       WITH ORDINALITY AS i(tenant_id, platform, account_id, campaign_id, campaign_name,
                            campaign_status, ts, impressions, clicks, conversions, cost,
                            revenue, currency, source, ord)
  ORDER BY tenant_id, campaign_id, platform, account_id, ts, ord DESC
),
replaced AS (
  SELECT m.tenant_id, m.platform, m.campaign_id, m.currency, m.ts, m.impressions, m.clicks,
         m.conversions, m.cost, m.revenue
  FROM campaign_metrics m
  JOIN input i USING (tenant_id, campaign_id, platform, account_id, ts)
),
written AS (
  INSERT INTO campaign_metrics AS m (tenant_id, platform, account_id, campaign_id, ts,
    ${MEASURE_COLUMNS}, currency, source)
  SELECT tenant_id, platform, account_id, campaign_id, ts, ${MEASURE_COLUMNS}, currency, source
  FROM input
  ON CONFLICT ON CONSTRAINT campaign_metrics_key DO UPDATE SET
    impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks,
    conversions = EXCLUDED.conversions, cost = EXCLUDED.cost, revenue = EXCLUDED.revenue,
    currency = EXCLUDED.currency, source = EXCLUDED.source, updated_at = now()
  WHERE (m.impressions, m.clicks, m.conversions, m.cost, m.revenue, m.currency, m.source)
    IS DISTINCT FROM (EXCLUDED.impressions, EXCLUDED.clicks, EXCLUDED.conversions,
                      EXCLUDED.cost, EXCLUDED.revenue, EXCLUDED.currency, EXCLUDED.source)
  RETURNING 1
),
changes AS (
  SELECT tenant_id, platform, campaign_id, currency, ts, ${MEASURE_COLUMNS} FROM input
  UNION ALL
  SELECT tenant_id, platform, campaign_id, currency, ts, -impressions, -clicks, -conversions,
         -cost, -revenue
  FROM replaced
),
monthly AS (
  INSERT INTO campaign_monthly AS r (tenant_id, month, platform, campaign_id, currency,
    ${MEASURE_COLUMNS})
  SELECT tenant_id, date_trunc('month', ts AT TIME ZONE 'UTC')::date, platform, campaign_id,
         currency, sum(impressions), sum(clicks), sum(conversions), sum(cost), sum(revenue)
  FROM changes GROUP BY 1, 2, 3, 4, 5 ${NONZERO_DELTA}
  ON CONFLICT (tenant_id, month, platform, campaign_id, currency) DO UPDATE SET
  ${ROLLUP_DELTA("r")}
  RETURNING 1
),
hourly AS (
  INSERT INTO platform_hourly AS r (tenant_id, hour, platform, currency, ${MEASURE_COLUMNS})
  SELECT tenant_id, date_trunc('hour', ts), platform, currency, sum(impressions),
         sum(clicks), sum(conversions), sum(cost), sum(revenue)
  FROM changes GROUP BY 1, 2, 3, 4 ${NONZERO_DELTA}
  ON CONFLICT (tenant_id, hour, platform, currency) DO UPDATE SET ${ROLLUP_DELTA("r")}
  RETURNING 1
),
catalog AS (
  INSERT INTO campaigns AS c (tenant_id, platform, campaign_id, account_id, name, status,
    currency, first_seen, last_seen)
  SELECT tenant_id, platform, campaign_id,
         (array_agg(account_id ORDER BY ord DESC))[1],
         (array_agg(campaign_name ORDER BY ord DESC) FILTER (WHERE campaign_name IS NOT NULL))[1],
         (array_agg(campaign_status ORDER BY ord DESC)
            FILTER (WHERE campaign_status IS NOT NULL))[1],
         (array_agg(currency ORDER BY ord DESC))[1],
         min(ts), max(ts)
  FROM input GROUP BY tenant_id, platform, campaign_id
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
SELECT (SELECT count(*) FROM written)::int AS written`;

const UPSERT_CAMPAIGNS_SQL = `
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
function metricSql(metric: MetricName, total: (column: string) => string): string {
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

const summed = (column: string) => `sum(${column})`;
const asIs = (column: string) => column;

/** Collects positional parameters while a statement is assembled. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = ""): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

type Source = "raw" | "campaign_monthly" | "platform_hourly";
interface RangePart {
  source: Source;
  from?: Date;
  to?: Date;
}

const HOUR_MS = 3_600_000;
const floorHour = (date: Date) => new Date(Math.floor(date.getTime() / HOUR_MS) * HOUR_MS);
const ceilHour = (date: Date) => new Date(Math.ceil(date.getTime() / HOUR_MS) * HOUR_MS);
const floorUtcMonth = (date: Date) =>
  new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
const ceilUtcMonth = (date: Date) => {
  const floor = floorUtcMonth(date);
  return floor.getTime() === date.getTime()
    ? floor
    : new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
};

/**
 * Splits [from, to) into the aligned middle a rollup answers and the raw edges.
 * Open bounds stay open: a lifetime question is answered by the rollup alone.
 */
export function splitRange(
  from: Date | undefined,
  to: Date | undefined,
  rollup: Exclude<Source, "raw">,
): RangePart[] {
  const [floor, ceil] = rollup === "platform_hourly"
    ? [floorHour, ceilHour]
    : [floorUtcMonth, ceilUtcMonth];
  const start = from && ceil(from);
  const end = to && floor(to);
  if (start && end && start.getTime() >= end.getTime()) return [{ source: "raw", from, to }];
  const parts: RangePart[] = [{ source: rollup, from: start, to: end }];
  if (from && start && from.getTime() < start.getTime()) {
    parts.push({ source: "raw", from, to: start });
  }
  if (to && end && end.getTime() < to.getTime()) parts.push({ source: "raw", from: end, to });
  return parts;
}

const isoDate = (date: Date) => date.toISOString().slice(0, 10);

/** A single rollup part covering exactly one calendar month (UTC). */
function isOneWholeMonth(parts: readonly RangePart[]): boolean {
  if (parts.length !== 1 || parts[0].source !== "campaign_monthly") return false;
  const { from, to } = parts[0];
  if (!from || !to) return false;
  return ceilUtcMonth(new Date(from.getTime() + 1)).getTime() === to.getTime();
}

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

const CampaignRowSchema = z.object({
  campaign_id: z.string(),
  platform: z.string(),
  account_id: z.string(),
  name: z.string().nullable(),
  status: z.string().nullable(),
  currency: z.string().nullable(),
  started_at: z.coerce.date().nullable(),
  first_seen: z.coerce.date().nullable(),
  last_seen: z.coerce.date().nullable(),
  sort_key: z.string(),
});
type CampaignRow = z.infer<typeof CampaignRowSchema>;

const CursorSchema = z.object({
  sort: CampaignSortSchema,
  key: z.string().max(64),
  platform: z.string().max(16),
  campaign_id: z.string().max(128),
});

const LifetimeRowSchema = SumsRowSchema.extend({ platform: z.string(), campaign_id: z.string() });

export class SqlMetricsStore implements MetricsStore {
  constructor(private readonly db: SqlDriver) {}

  async upsert(raw: readonly unknown[]): Promise<UpsertResult> {
    const { rows, rejected } = validateRows(raw);
    if (rows.length === 0) return { accepted: 0, rejected };
    await this.db.transaction(async (tx) => {
      for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
        await upsertChunk(tx, rows.slice(start, start + ROWS_PER_STATEMENT));
      }
    });
    return { accepted: rows.length, rejected };
  }

  async upsertCampaigns(campaigns: readonly CampaignMetadata[]): Promise<void> {
    if (campaigns.length === 0) return;
    const column = <T>(pick: (c: CampaignMetadata) => T) => campaigns.map(pick);
    await this.db.query(UPSERT_CAMPAIGNS_SQL, [
      column((c) => c.tenant_id),
      column((c) => c.platform),
      column((c) => c.campaign_id),
      column((c) => c.account_id),
      column((c) => c.name ?? null),
      column((c) => c.status ?? null),
      column((c) => c.started_at?.toISOString() ?? null),
    ]);
  }

  async totals(selection: Selection): Promise<TotalsResult> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    const parts = this.partsFor(where, "platform_hourly");
    const rows = await this.db.query(
      `SELECT grouping(platform) AS overall, platform, currency, ${SUMS_SELECT}
       FROM (${unionOf(parts, where, params, "UTC")}) parts
       GROUP BY GROUPING SETS ((currency), (platform, currency))
       ORDER BY overall DESC, platform, currency`,
      params.values,
    );
    const result: TotalsResult = { totals: [], by_platform: [] };
    for (const row of rows) {
      if (Number(row.overall) === 1) result.totals.push(SumsRowSchema.parse(row));
      else result.by_platform.push(PlatformSumsRowSchema.parse(row));
    }
    return result;
  }

  async series(
    selection: Selection,
    granularity: "hour" | "day" | "week" | "month",
    timeZone = "UTC",
  ): Promise<SeriesRow[]> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    // Hours bucket into days of any zone whose offsets are whole hours; the others
    // (India +5:30, Nepal +5:45, ...) read the raw rows.
    const parts = isWholeHourZone(timeZone, where.from, where.to)
      ? this.partsFor(where, "platform_hourly")
      : [{ source: "raw" as const, from: where.from, to: where.to }];
    const rows = await this.db.query(
      `SELECT to_char(date_trunc(${params.add(granularity)}, at), ${
        params.add(granularity === "hour" ? 'YYYY-MM-DD"T"HH24:00' : "YYYY-MM-DD")
      }) AS bucket,
              currency, ${SUMS_SELECT}
       FROM (${unionOf(parts, where, params, timeZone)}) parts
       GROUP BY 1, currency ORDER BY 1, currency`,
      params.values,
    );
    return rows.map((row) => SeriesRowSchema.parse(row));
  }

  async rank(selection: Selection, options: RankOptions): Promise<RankRow[]> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    const byCampaign = options.groupBy === "campaign";
    const parts = this.partsFor(where, byCampaign ? "campaign_monthly" : "platform_hourly");
    const keys = byCampaign ? "platform, campaign_id, currency" : "platform, currency";
    const direction = options.order === "asc" ? "ASC" : "DESC";
    const limit = params.add(options.limit, "::int");
    const ranked = byCampaign && isOneWholeMonth(parts)
      // One month of the monthly rollup already holds one row per campaign and currency:
      // rank the rows themselves instead of grouping 20,000 single-row groups.
      ? `SELECT ${keys}, ${MEASURE_TEXT}, ${metricSql(options.metric, asIs)} AS score
        FROM (${unionOf(parts, where, params, "UTC")}) parts
        ORDER BY score ${direction} NULLS LAST, ${keys} LIMIT ${limit}`
      : `SELECT ${keys}, ${SUMS_SELECT}, ${metricSql(options.metric, summed)} AS score
        FROM (${unionOf(parts, where, params, "UTC")}) parts
        GROUP BY ${keys}
        ORDER BY score ${direction} NULLS LAST, ${keys} LIMIT ${limit}`;
    const sql = byCampaign
      ? `SELECT r.*, c.name AS campaign_name FROM (${ranked}) r
         LEFT JOIN campaigns c ON c.tenant_id = ${params.add(where.tenantId)}
           AND c.platform = r.platform AND c.campaign_id = r.campaign_id
         ORDER BY r.score ${direction} NULLS LAST, r.platform, r.campaign_id, r.currency`
      : `SELECT r.*, NULL AS campaign_id, NULL AS campaign_name FROM (${ranked}) r
         ORDER BY r.score ${direction} NULLS LAST, r.platform, r.currency`;
    const rows = await this.db.query(sql, params.values);
    return rows.map((row) => RankRowSchema.parse(row));
  }

  async listCampaigns(query: CampaignQuery): Promise<CampaignPage> {
    const sort = query.sort ?? "latest";
    const limit = query.limit ?? 50;
    const params = new Params();
    const tenant = params.add(query.tenantId);
    const filters = [`c.tenant_id = ${tenant}`];
    if (query.platforms?.length) {
      filters.push(`c.platform = ANY(${params.add(query.platforms)}::text[])`);
    }
    if (query.q) {
      const pattern = params.add(`%${query.q.replace(/[\\%_]/g, (ch) => "\\" + ch)}%`);
      filters.push(`(c.name ILIKE ${pattern} OR c.campaign_id ILIKE ${pattern})`);
    }
    const sortKey = sort === "spend"
      ? "coalesce(s.cost, 0)"
      : "coalesce(c.started_at, c.first_seen, 'epoch'::timestamptz)";
    if (query.cursor) {
      const cursor = decodeCursor(query.cursor, sort);
      const key = params.add(cursor.key, sort === "spend" ? "::numeric" : "::timestamptz");
      filters.push(
        `(${sortKey} < ${key} OR (${sortKey} = ${key} AND (c.platform, c.campaign_id) > (${
          params.add(cursor.platform)
        }, ${params.add(cursor.campaign_id)})))`,
      );
    }
    const spendJoin = sort === "spend"
      ? `LEFT JOIN (SELECT platform, campaign_id, currency, sum(cost) AS cost
           FROM campaign_monthly WHERE tenant_id = ${tenant} GROUP BY 1, 2, 3) s
         ON s.platform = c.platform AND s.campaign_id = c.campaign_id AND s.currency = c.currency`
      : "";
    const sortKeyText = sort === "spend"
      ? `${sortKey}::text`
      : `to_char(${sortKey} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    const rows = await this.db.query(
      `SELECT c.campaign_id, c.platform, c.account_id, c.name, c.status, c.currency,
              c.started_at, c.first_seen, c.last_seen, ${sortKeyText} AS sort_key
       FROM campaigns c ${spendJoin}
       WHERE ${filters.join(" AND ")}
       ORDER BY ${sortKey} DESC, c.platform, c.campaign_id
       LIMIT ${params.add(limit + 1, "::int")}`,
      params.values,
    );
    const page = rows.slice(0, limit).map((row) => CampaignRowSchema.parse(row));
    const last = page.at(-1);
    return {
      items: await this.withLifetime(query.tenantId, page),
      next_cursor: rows.length > limit && last ? encodeCursor(sort, last) : null,
    };
  }

  async latestCampaigns(tenantId: string, platforms: Platform[] = []): Promise<CampaignSummary[]> {
    const params = new Params();
    const filter = platforms.length ? `AND platform = ANY(${params.add(platforms)}::text[])` : "";
    const rows = await this.db.query(
      `SELECT DISTINCT ON (platform) campaign_id, platform, account_id, name, status, currency,
              started_at, first_seen, last_seen, '' AS sort_key
       FROM campaigns WHERE tenant_id = ${params.add(tenantId)} ${filter}
       ORDER BY platform, coalesce(started_at, first_seen) DESC NULLS LAST, campaign_id DESC`,
      params.values,
    );
    const latest = rows.map((row) => CampaignRowSchema.parse(row));
    latest.sort((a, b) => launchTime(b) - launchTime(a));
    return await this.withLifetime(tenantId, latest);
  }

  async findCampaign(tenantId: string, campaignId: string): Promise<CampaignSummary[]> {
    const rows = await this.db.query(
      `SELECT campaign_id, platform, account_id, name, status, currency, started_at, first_seen,
              last_seen, '' AS sort_key
       FROM campaigns WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY platform`,
      [tenantId, campaignId],
    );
    return await this.withLifetime(tenantId, rows.map((row) => CampaignRowSchema.parse(row)));
  }

  async ping(): Promise<void> {
    await this.db.query("SELECT 1");
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** With a campaign filter the raw rows are few and indexed; otherwise use the rollup. */
  private partsFor(
    where: z.output<typeof SelectionSchema>,
    rollup: Exclude<Source, "raw">,
  ): RangePart[] {
    if (where.campaignIds.length > 0) return [{ source: "raw", from: where.from, to: where.to }];
    return splitRange(where.from, where.to, rollup);
  }

  private async withLifetime(tenantId: string, rows: CampaignRow[]): Promise<CampaignSummary[]> {
    if (rows.length === 0) return [];
    const lifetime = await this.db.query(
      `SELECT platform, campaign_id, currency, ${SUMS_SELECT}
       FROM campaign_monthly
       WHERE tenant_id = $1 AND (platform, campaign_id) IN (
         SELECT * FROM unnest($2::text[], $3::text[]))
       GROUP BY platform, campaign_id, currency ORDER BY currency`,
      [tenantId, rows.map((row) => row.platform), rows.map((row) => row.campaign_id)],
    );
    const sums = lifetime.map((row) => LifetimeRowSchema.parse(row));
    return rows.map(({ sort_key: _sortKey, ...row }) =>
      CampaignSummarySchema.parse({
        ...row,
        lifetime: sums
          .filter((sum) => sum.platform === row.platform && sum.campaign_id === row.campaign_id)
          .map(({ platform: _p, campaign_id: _c, ...sum }) => sum),
      })
    );
  }
}

function launchTime(row: CampaignRow): number {
  return (row.started_at ?? row.first_seen)?.getTime() ?? 0;
}

async function upsertChunk(tx: SqlExecutor, rows: readonly MetricRow[]): Promise<void> {
  const column = <T>(pick: (row: MetricRow) => T) => rows.map(pick);
  const tenants = column((row) => row.tenant_id);
  const platforms = column((row) => row.platform);
  const accounts = column((row) => row.account_id);
  await tx.query(LOCK_ACCOUNTS_SQL, [tenants, platforms, accounts]);
  await tx.query(UPSERT_SQL, [
    tenants,
    platforms,
    accounts,
    column((row) => row.campaign_id),
    column((row) => row.campaign_name ?? null),
    column((row) => row.campaign_status ?? null),
    column((row) => row.ts.toISOString()),
    column((row) => row.impressions),
    column((row) => row.clicks),
    column((row) => row.conversions),
    column((row) => row.cost),
    column((row) => row.revenue),
    column((row) => row.currency),
    column((row) => row.source),
  ]);
}

/** One SELECT per range part, each yielding the same columns, glued with UNION ALL. */
function unionOf(
  parts: readonly RangePart[],
  where: z.output<typeof SelectionSchema>,
  params: Params,
  timeZone: string,
): string {
  return parts.map((part) => partSql(part, where, params, timeZone)).join("\nUNION ALL\n");
}

function partSql(
  part: RangePart,
  where: z.output<typeof SelectionSchema>,
  params: Params,
  timeZone: string,
): string {
  const filters = [`tenant_id = ${params.add(where.tenantId)}`];
  if (where.platforms.length) {
    filters.push(`platform = ANY(${params.add(where.platforms)}::text[])`);
  }
  if (where.currency) filters.push(`currency = ${params.add(where.currency)}`);
  if (part.source === "raw") {
    if (where.campaignIds.length) {
      filters.push(`campaign_id = ANY(${params.add(where.campaignIds)}::text[])`);
    }
    if (part.from) filters.push(`ts >= ${params.add(part.from.toISOString(), "::timestamptz")}`);
    if (part.to) filters.push(`ts < ${params.add(part.to.toISOString(), "::timestamptz")}`);
    return `SELECT platform, campaign_id, currency, ts AT TIME ZONE ${
      params.add(timeZone)
    } AS at, ${MEASURE_COLUMNS}
      FROM campaign_metrics WHERE ${filters.join(" AND ")}`;
  }
  if (part.source === "campaign_monthly") {
    if (part.from) filters.push(`month >= ${params.add(isoDate(part.from), "::date")}`);
    if (part.to) filters.push(`month < ${params.add(isoDate(part.to), "::date")}`);
    return `SELECT platform, campaign_id, currency, month::timestamp AS at, ${MEASURE_COLUMNS}
      FROM campaign_monthly WHERE ${filters.join(" AND ")}`;
  }
  if (part.from) filters.push(`hour >= ${params.add(part.from.toISOString(), "::timestamptz")}`);
  if (part.to) filters.push(`hour < ${params.add(part.to.toISOString(), "::timestamptz")}`);
  return `SELECT platform, NULL::text AS campaign_id, currency,
      hour AT TIME ZONE ${params.add(timeZone)} AS at, ${MEASURE_COLUMNS}
      FROM platform_hourly WHERE ${filters.join(" AND ")}`;
}

function encodeCursor(sort: "latest" | "spend", row: CampaignRow): string {
  const json = JSON.stringify({
    sort,
    key: row.sort_key,
    platform: row.platform,
    campaign_id: row.campaign_id,
  });
  return btoa(String.fromCharCode(...new TextEncoder().encode(json)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string, sort: "latest" | "spend"): z.infer<typeof CursorSchema> {
  try {
    const base64 = cursor.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
    const parsed = CursorSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
    const validKey = sort === "spend"
      ? /^\d+(\.\d+)?$/.test(parsed.key)
      : !Number.isNaN(Date.parse(parsed.key));
    if (parsed.sort !== sort || !validKey) throw new InvalidCursorError();
    return parsed;
  } catch {
    throw new InvalidCursorError();
  }
}
