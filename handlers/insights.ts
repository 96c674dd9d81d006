/**
 * The insights endpoints: one campaign's KPIs (`GET /campaign/:id/insights`) and
 * totals with groups across campaigns (`GET /insights`). Answers are cached per
 * tenant and data version, so a cached answer is never older than the last write.
 */
import type { Hono } from "hono";
import type { z } from "zod";
import type { CampaignInsights, Insights, InsightsGroup } from "../lib/api.ts";
import {
  bucketGroups,
  campaignInsightsReport,
  insightsReport,
  rankedGroups,
} from "../lib/insights_report.ts";
import type { MetricName, Platform } from "../lib/schema.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import { cachedJson } from "./context.ts";
import { type InsightsReader, readingFor } from "./fx_reads.ts";
import {
  BadRequest,
  CampaignIdParam,
  CampaignInsightsQuery,
  InsightsQuery,
  NotFound,
  parseQuery,
  resolveRange,
} from "./params.ts";

export function registerInsightsRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get("/campaign/:id/insights", (c) => {
    const id = CampaignIdParam.safeParse(c.req.param("id"));
    if (!id.success) throw new BadRequest("id", `id: ${id.error.issues[0].message}`);
    const query = parseQuery(c, CampaignInsightsQuery);
    const timeZone = query.tz ?? deps.defaultTimeZone;
    const tenant = c.get("principal").tenant;
    const reading = readingFor(deps, query.currency, timeZone);
    const key = `campaign-insights|${id.data}|${timeZone}|${reading.target ?? ""}|${
      JSON.stringify(query)
    }`;
    // Ranges are resolved on a miss only: a hit needs no calendar work (and an invalid
    // range throws before anything is cached).
    return cachedJson(c, deps, tenant, key, async () => {
      const range = resolveRange(query, timeZone);
      const catalog = await deps.store.findCampaign(tenant, id.data);
      if (catalog.length === 0) {
        throw new NotFound("id", `campaign "${id.data}" not found`);
      }
      const platforms = query.platform ?? [];
      const selection = {
        tenantId: tenant,
        campaignIds: [id.data],
        platforms,
        ...range,
        currency: query.source_currency,
      };
      const [totals, series] = await Promise.all([
        reading.reader.totals(selection),
        query.granularity
          ? reading.reader.series(selection, query.granularity, timeZone)
          : Promise.resolve(undefined),
      ]);
      const body: CampaignInsights = {
        ...campaignInsightsReport({
          campaignId: id.data,
          catalog,
          platforms,
          from: query.from,
          to: query.to,
          timeZone,
          totals,
          series,
          target: reading.target ?? null,
        }),
        ...(reading.target ? { fx: reading.fx() } : {}),
      };
      return body;
    });
  });

  app.get("/insights", (c) => {
    const query = parseQuery(c, InsightsQuery);
    const timeZone = query.tz ?? deps.defaultTimeZone;
    const tenant = c.get("principal").tenant;
    if (query.order_by && !query.group_by) {
      throw new BadRequest("order_by", "order_by needs group_by (platform or campaign)");
    }
    const reading = readingFor(deps, query.currency, timeZone);
    const key = `insights|${timeZone}|${reading.target ?? ""}|${JSON.stringify(query)}`;
    return cachedJson(c, deps, tenant, key, async () => {
      const range = resolveRange(query, timeZone);
      const selection = {
        tenantId: tenant,
        platforms: query.platform ?? [],
        campaignIds: query.campaign_id ? [query.campaign_id] : [],
        currency: query.source_currency,
        ...range,
      };
      const [totals, groups] = await Promise.all([
        reading.reader.totals(selection),
        groupsFor(reading.reader, selection, query, timeZone, reading.target ?? null),
      ]);
      const body: Insights = {
        ...insightsReport({
          from: query.from,
          to: query.to,
          timeZone,
          platforms: selection.platforms,
          campaignId: query.campaign_id,
          groupBy: query.group_by,
          totals,
          groups,
          target: reading.target ?? null,
        }),
        ...(reading.target ? { fx: reading.fx() } : {}),
      };
      return body;
    });
  });
}

type Group = InsightsGroup;

async function groupsFor(
  reader: InsightsReader,
  selection: {
    tenantId: string;
    platforms: Platform[];
    campaignIds: string[];
    currency?: string;
    from?: Date;
    to?: Date;
  },
  query: z.output<typeof InsightsQuery>,
  timeZone: string,
  target: string | null,
): Promise<Group[] | undefined> {
  const groupBy = query.group_by;
  if (!groupBy) return undefined;
  if (groupBy === "hour" || groupBy === "day" || groupBy === "week" || groupBy === "month") {
    return bucketGroups(await reader.series(selection, groupBy, timeZone), target);
  }
  const metric: MetricName = query.order_by ?? "cost";
  const ranked = await reader.rank(selection, {
    groupBy,
    metric,
    order: query.order ?? "desc",
    limit: query.limit,
  });
  return rankedGroups(ranked, groupBy);
}
