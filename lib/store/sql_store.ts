/**
 * The one SQL implementation of MetricsStore. Every query is plain PostgreSQL, so the
 * same text runs on PGlite and on a server.
 *
 * Writes: rows are validated here, their months' partitions ensured and the retention
 * horizon checked; staged_write.ts COPies them into a staging table and applies them in
 * one set-based statement (raw rows, the change of every rollup, the catalog).
 *
 * Reads: a time range is split into the whole UTC days or months a rollup can answer
 * and the ragged edges, which are read from the raw rows; the answer is identical to
 * summing raw rows, only faster.
 */
import { z } from "zod";
import { base64UrlDecode, base64UrlEncode } from "../encoding.ts";
import type { SqlDriver } from "./driver.ts";
import { upsertRows } from "./staged_write.ts";
import { campaignIdsOf, isAllZero, rankKey, rankOrder, topSums } from "./campaign_rank_sql.ts";
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
  type UpsertOptions,
  type UpsertResult,
} from "./metrics_store.ts";
import { type MetricRow, type Platform, type RowRejection, validateRows } from "../schema.ts";
import { floorHour, zoneBuckets } from "./range_plan.ts";
import {
  assertRawKept,
  ensureMonthPartitions,
  HorizonCache,
  lockRawKeptFrom,
  type MonthKey,
  monthKeyOf,
  readKept,
  readsDroppedRows,
} from "./partitions.ts";
import {
  asIs,
  isOneWholeMonth,
  isWholeHourZone,
  MEASURE_TEXT,
  metricSql,
  oneMonthFilters,
  Params,
  planBuckets,
  planRange,
  type RangeGrain,
  type RangePart,
  runningTotals,
  summed,
  SUMS_SELECT,
  unionOf,
  UPSERT_CAMPAIGNS_SQL,
} from "./sql_queries.ts";

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

/**
 * Validation is synchronous and costs tens of microseconds a row: a 10,000-row batch
 * validated at once would hold the thread (and every request on it) for a few hundred
 * milliseconds. Rows are validated in slices, and the thread is given back between
 * slices once VALIDATE_SLICE_MS have passed since it was last given back.
 */
const VALIDATE_SLICE = 250;
const VALIDATE_SLICE_MS = 5;

async function validateInSlices(
  raw: readonly unknown[],
  now: Date,
): Promise<ReturnType<typeof validateRows>> {
  if (raw.length <= VALIDATE_SLICE) return validateRows(raw, {}, now);
  const rows: MetricRow[] = [];
  const rejected: RowRejection[] = [];
  let resumed = performance.now();
  for (let start = 0; start < raw.length; start += VALIDATE_SLICE) {
    if (performance.now() - resumed >= VALIDATE_SLICE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      resumed = performance.now();
    }
    const part = validateRows(raw.slice(start, start + VALIDATE_SLICE), {}, now);
    for (const row of part.rows) rows.push(row);
    for (const rejection of part.rejected) {
      rejected.push({ ...rejection, index: rejection.index + start });
    }
  }
  return { rows, rejected };
}

export interface SqlStoreOptions {
  /**
   * How long reads may use the retention horizon they read (default HORIZON_CACHE_MS,
   * matched by the wait of maintainPartitions); 0 reads it with every read of raw rows.
   */
  horizonCacheMs?: number;
}

/**
 * The parts a read will query, and the retention horizon when it is known already (read
 * with the empty-edge probe); reads check it with `readKept` (partitions.ts).
 */
interface ReadPlan {
  parts: RangePart[];
  keptFrom?: Date | null;
}

export class SqlMetricsStore implements MetricsStore {
  /** Months known to have a partition (sql/007): a batch within them costs no lookup. */
  private readonly knownMonths = new Set<MonthKey>();
  /** The retention horizon, for reads of raw rows (see HorizonCache). */
  private readonly horizon: HorizonCache;

  constructor(private readonly db: SqlDriver, options: SqlStoreOptions = {}) {
    this.horizon = new HorizonCache(db, options.horizonCacheMs);
  }

  async upsert(raw: readonly unknown[], options: UpsertOptions = {}): Promise<UpsertResult> {
    const { rows, rejected } = await validateInSlices(raw, options.now ?? new Date());
    if (rows.length === 0) return { accepted: 0, rejected };
    await this.ensureMonths(rows);
    const late = await this.db.transaction(async (tx) => {
      // Shared with the retention step that moves the horizon: it cannot move (and the
      // months below it cannot be dropped) while this write is in flight.
      const sentAt = this.horizon.now();
      const keptFrom = await lockRawKeptFrom(tx);
      this.horizon.remember(keptFrom, sentAt);
      const kept = keptFrom ? rows.filter((row) => row.ts >= keptFrom) : rows;
      await upsertRows(tx, kept);
      return keptFrom && kept.length < rows.length ? keptFrom : null;
    });
    if (!late) return { accepted: rows.length, rejected };
    return {
      accepted: rows.filter((row) => row.ts >= late).length,
      rejected: [...rejected, ...lateRejections(raw.length, rows, rejected, late)]
        .sort((a, b) => a.index - b.index),
    };
  }

  /** Partitions for the batch's months not seen yet (created under the migration lock). */
  private async ensureMonths(rows: readonly MetricRow[]): Promise<void> {
    const unknown = new Set<MonthKey>();
    for (const row of rows) {
      const key = monthKeyOf(row.ts);
      if (!this.knownMonths.has(key)) unknown.add(key);
    }
    if (unknown.size === 0) return;
    const { covered } = await ensureMonthPartitions(this.db, unknown);
    for (const key of covered) this.knownMonths.add(key);
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
    const plan = await this.withoutEmptyEdges(where, this.partsFor(where, "platform"));
    const rows = await readKept(this.horizon, plan.parts, () =>
      this.db.query(
        `SELECT grouping(platform) AS overall, platform, currency, ${SUMS_SELECT}
         FROM (${unionOf(plan.parts, where, params, "UTC")}) parts
         GROUP BY GROUPING SETS ((currency), (platform, currency))
         ORDER BY overall DESC, platform, currency`,
        params.values,
      ), plan.keptFrom);
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
    // Hours bucket into days of any zone whose offsets are whole hours; in the others
    // (India +5:30, Nepal +5:45, ...) each bucket is planned on its own: the whole UTC
    // days and months inside it from the campaign rollups, its edges from raw rows.
    const campaignFilter = where.campaignIds.length > 0;
    let parts: RangePart[];
    if (!campaignFilter && isWholeHourZone(timeZone, where.from, where.to)) {
      parts = this.partsFor(where, "platform");
    } else if (where.from && where.to && granularity !== "hour") {
      // (Hour buckets have no rollup finer than the platform one: raw rows below.)
      const buckets = zoneBuckets(where.from, where.to, granularity, timeZone);
      parts = planBuckets(buckets, { grain: "campaign", campaignFilter });
    } else parts = [{ source: "raw", from: where.from, to: where.to }];
    const plan = await this.withoutEmptyEdges(where, parts);
    const rows = await readKept(this.horizon, plan.parts, () =>
      this.db.query(
        `SELECT to_char(date_trunc(${params.add(granularity)}, at), ${
          params.add(granularity === "hour" ? 'YYYY-MM-DD"T"HH24:00' : "YYYY-MM-DD")
        }) AS bucket,
                currency, ${SUMS_SELECT}
         FROM (${unionOf(plan.parts, where, params, timeZone)}) parts
         GROUP BY 1, currency ORDER BY 1, currency`,
        params.values,
      ), plan.keptFrom);
    return rows.map((row) => SeriesRowSchema.parse(row));
  }

  async rank(selection: Selection, options: RankOptions): Promise<RankRow[]> {
    const where = SelectionSchema.parse(selection);
    const params = new Params();
    const byCampaign = options.groupBy === "campaign";
    const parts = this.partsFor(where, byCampaign ? "campaign" : "platform");
    const keys = byCampaign ? "platform, campaign_id, currency" : "platform, currency";
    const direction = options.order === "asc" ? "ASC" : "DESC";
    const limit = params.add(options.limit, "::int");
    if (byCampaign && !isOneWholeMonth(parts) && where.campaignIds.length === 0) {
      return await this.rankCampaigns(where, await this.withoutEmptyEdges(where, parts), options);
    }
    const ranked = byCampaign && isOneWholeMonth(parts)
      // One month of the monthly rollup already holds one row per campaign and currency:
      // rank the rows themselves instead of grouping 20,000 single-row groups. With
      // `month =` the ROAS index (sql/006) hands over the top rows in order; measures
      // become text for those rows only.
      ? `SELECT ${keys}, ${MEASURE_TEXT}, score FROM (
          SELECT ${keys}, impressions, clicks, conversions, cost, revenue,
                 ${metricSql(options.metric, asIs)} AS score
          FROM campaign_monthly WHERE ${oneMonthFilters(where, parts[0].from!, params)}
          ORDER BY score ${direction} NULLS LAST, ${keys} LIMIT ${limit}) top`
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
    const rows = isOneWholeMonth(parts)
      ? await this.db.query(sql, params.values)
      : await readKept(this.horizon, parts, () => this.db.query(sql, params.values));
    return rows.map((row) => RankRowSchema.parse(row));
  }

  /**
   * Campaigns over a range the monthly rollup alone does not answer: first the order,
   * summing only the columns the metric needs over every campaign (the sums are most of
   * the cost), then the full sums of the first `limit` only, read as a campaign filter
   * (whole months from the monthly rollup, the rest by primary key). Same range, same
   * filters, so the same exact sums as summing everything at once.
   *
   * Days come as differences of running totals, so a campaign with no data in the range
   * is a group of zeros there. Leaving such groups out costs every measure's sum for
   * every campaign; instead, the order is read without that check and read again with it
   * only when one of its first `limit` has no data in the range (rare: fewer campaigns
   * with data than asked for, or a metric that sorts zeros first).
   */
  private async rankCampaigns(
    where: z.output<typeof SelectionSchema>,
    plan: ReadPlan,
    options: RankOptions,
  ): Promise<RankRow[]> {
    const { parts } = plan;
    // The top campaigns' sums are read by primary key: the horizon decides whether the
    // raw rows of that plan are still there, so it is read beside the order.
    const topPlan = (campaignIds: string[]) => this.partsFor({ ...where, campaignIds }, "campaign");
    const needsHorizon = [...parts, ...topPlan(["any"])].some((part) => part.source === "raw");
    const orderParts = runningTotals(parts);
    const differences = orderParts.some((part) => part.source === "campaign_mtd");
    const [order, keptFrom] = await Promise.all([
      rankOrder(this.db, where, orderParts, options, false),
      plan.keptFrom !== undefined ? plan.keptFrom : needsHorizon ? this.horizon.get() : null,
    ]);
    await assertRawKept(this.db, parts, keptFrom);
    // By primary key for the top campaigns; but below the retention horizon the raw rows
    // are gone, and the order's own parts (rollups, filtered) are the exact answer.
    const sumsOf = (campaignIds: string[]) => {
      const topParts = topPlan(campaignIds);
      return topSums(
        this.db,
        { ...where, campaignIds },
        keptFrom && readsDroppedRows(topParts, keptFrom) ? orderParts : topParts,
      );
    };
    let sums = await sumsOf(campaignIdsOf(order));
    let ranked = order.map((row) => sums.get(rankKey(row)));
    if (differences && ranked.some((row) => row === undefined || isAllZero(row))) {
      const active = await rankOrder(this.db, where, orderParts, options, true);
      sums = await sumsOf(campaignIdsOf(active));
      ranked = active.map((row) => sums.get(rankKey(row)));
    }
    return ranked.map((row, i) => {
      if (!row) throw new Error(`rank: no sums for ${rankKey(order[i])}`);
      return row;
    });
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

  /**
   * Drops raw edge parts whose hours hold no data (the hourly rollup says so exactly: a
   * raw row with any non-zero measure is in its platform-hour): a range in New York
   * ends at 04:00 or 05:00 UTC, and when nothing was recorded in those hours no scan of
   * the raw rows is needed. With a campaign filter raw rows are read by primary key:
   * kept as they are.
   */
  private async withoutEmptyEdges(
    where: z.output<typeof SelectionSchema>,
    parts: RangePart[],
  ): Promise<ReadPlan> {
    const edges = parts.filter((part) => part.source === "raw" && part.from && part.to);
    if (where.campaignIds.length > 0 || edges.length === 0) return { parts };
    const params = new Params();
    const filters = [`tenant_id = ${params.add(where.tenantId)}`];
    if (where.platforms.length) {
      filters.push(`platform = ANY(${params.add(where.platforms)}::text[])`);
    }
    if (where.currency) filters.push(`currency = ${params.add(where.currency)}`);
    const probes = edges.map((part, i) =>
      `EXISTS (SELECT 1 FROM platform_hourly WHERE ${filters.join(" AND ")}
         AND hour >= ${params.add(floorHour(part.from!).toISOString(), "::timestamptz")}
         AND hour < ${params.add(part.to!.toISOString(), "::timestamptz")}) AS e${i}`
    );
    // The retention horizon comes with the probe (no round trip of its own).
    const sentAt = this.horizon.now();
    const [found] = await this.db.query<Record<string, unknown>>(
      `SELECT ${probes.join(", ")},
         (SELECT raw_kept_from FROM campaign_metrics_retention) AS raw_kept_from`,
      params.values,
    );
    const empty = new Set(edges.filter((_, i) => found?.[`e${i}`] === false));
    const kept = parts.filter((part) => !empty.has(part));
    const value = found?.raw_kept_from;
    const keptFrom = value === null || value === undefined ? null : new Date(value as string);
    this.horizon.remember(keptFrom, sentAt);
    return { parts: kept.length > 0 ? kept : [parts[0]], keptFrom };
  }

  /** The planner's parts for this selection (a campaign filter: raw rows by primary key). */
  private partsFor(where: z.output<typeof SelectionSchema>, grain: RangeGrain): RangePart[] {
    return planRange(where.from, where.to, { grain, campaignFilter: where.campaignIds.length > 0 });
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

/**
 * The valid rows below the retention horizon as rejections at their batch positions
 * (`rows` are the batch minus `rejected`, in order).
 */
function lateRejections(
  size: number,
  rows: readonly MetricRow[],
  rejected: readonly RowRejection[],
  keptFrom: Date,
): RowRejection[] {
  const invalid = new Set(rejected.map((rejection) => rejection.index));
  const late: RowRejection[] = [];
  let next = 0;
  for (let index = 0; index < size; index++) {
    if (invalid.has(index)) continue;
    const row = rows[next++];
    if (row && row.ts < keptFrom) {
      late.push({
        index,
        field: "ts",
        error: `raw rows before ${keptFrom.toISOString()} were dropped by retention ` +
          "(RETENTION_MONTHS): this row cannot replace the one it restates, so it is not " +
          "applied (the rollups keep the totals as they were)",
      });
    }
  }
  return late;
}

function launchTime(row: CampaignRow): number {
  return (row.started_at ?? row.first_seen)?.getTime() ?? 0;
}

function encodeCursor(sort: "latest" | "spend", row: CampaignRow): string {
  const json = JSON.stringify({
    sort,
    key: row.sort_key,
    platform: row.platform,
    campaign_id: row.campaign_id,
  });
  return base64UrlEncode(new TextEncoder().encode(json));
}

function decodeCursor(cursor: string, sort: "latest" | "spend"): z.infer<typeof CursorSchema> {
  try {
    const bytes = base64UrlDecode(cursor);
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
