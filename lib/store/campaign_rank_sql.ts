/**
 * The two statements of a campaign ranking over a range the monthly rollup alone does
 * not answer (SqlMetricsStore.rankCampaigns): the order (keys only, summing just what
 * the metric needs) and the full sums of the first few campaigns, read by key.
 */
import type { z } from "zod";
import type { SqlDriver } from "./driver.ts";
import {
  type RankOptions,
  type RankRow,
  RankRowSchema,
  type SelectionSchema,
} from "./metrics_store.ts";
import { MEASURES } from "../schema.ts";
import { metricSql, Params, type RangePart, summed, SUMS_SELECT, unionOf } from "./sql_queries.ts";

/** A ranked group's key. */
export interface RankKey {
  platform: string;
  campaign_id: string | null;
  currency: string;
}

export const rankKey = (row: RankKey) => `${row.platform}/${row.campaign_id}/${row.currency}`;

export const campaignIdsOf = (rows: readonly RankKey[]) => [
  ...new Set(rows.map((row) => row.campaign_id).filter((id): id is string => id !== null)),
];

/** A group whose every sum is zero: no data in the range (see rankCampaigns). */
export const isAllZero = (row: RankRow) => MEASURES.every((m) => Number(row[m]) === 0);

/**
 * The order of a campaign ranking: keys only, `limit` of them, over `parts`; with
 * `activeOnly`, campaigns whose sums are all zero in the range are left out.
 */
export function rankOrder(
  db: SqlDriver,
  where: z.output<typeof SelectionSchema>,
  parts: readonly RangePart[],
  options: RankOptions,
  activeOnly: boolean,
): Promise<RankKey[]> {
  const keys = "platform, campaign_id, currency";
  const direction = options.order === "asc" ? "ASC" : "DESC";
  const params = new Params();
  const having = activeOnly ? `HAVING ${MEASURES.map((m) => `sum(${m}) <> 0`).join(" OR ")}` : "";
  return db.query<RankKey>(
    `SELECT ${keys}, ${metricSql(options.metric, summed)} AS score
     FROM (${unionOf(parts, where, params, "UTC")}) parts
     GROUP BY ${keys} ${having}
     ORDER BY score ${direction} NULLS LAST, ${keys} LIMIT ${params.add(options.limit, "::int")}`,
    params.values,
  );
}

/** Full sums and names of a few campaigns (a campaign filter), by rank key. */
export async function topSums(
  db: SqlDriver,
  where: z.output<typeof SelectionSchema>,
  parts: readonly RangePart[],
): Promise<Map<string, RankRow>> {
  if (where.campaignIds.length === 0) return new Map();
  const params = new Params();
  const sums = await db.query(
    `SELECT s.*, c.name AS campaign_name FROM (
       SELECT platform, campaign_id, currency, ${SUMS_SELECT}
       FROM (${unionOf(parts, where, params, "UTC")}) parts
       GROUP BY platform, campaign_id, currency) s
     LEFT JOIN campaigns c ON c.tenant_id = ${params.add(where.tenantId)}
       AND c.platform = s.platform AND c.campaign_id = s.campaign_id`,
    params.values,
  );
  return new Map(sums.map((row) => {
    const parsed = RankRowSchema.parse(row);
    return [rankKey(parsed), parsed];
  }));
}
