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
  NATIVE_CURRENCY,
  NotFound,
  parseQueryString,
  resolveRange,
} from "./params.ts";

/**
 * What a cached insights read needs once its request is validated: the cache key (per
 * tenant) and how to compute the answer on a miss. Built from the route's parameters
 * alone (no tenant, no clock), so the fast path (handlers/fast_path.ts) may reuse a plan
 * for every request with the same path and query; the Hono routes below build theirs
 * per request. Invalid parameters throw the route's BadRequest.
 */
export interface InsightsPlan {
  key: string;
  compute(tenant: string): Promise<unknown>;
}

/** The target currency a read reports in (undefined: native), as `readingFor` decides it. */
function checkedTarget(deps: AppDeps, requested: string | undefined): string | undefined {
  const target = requested === NATIVE_CURRENCY ? undefined : requested ?? deps.reportingCurrency;
  if (target && !deps.fx) {
    throw new BadRequest("currency", "currency conversion is not available in this deployment");
  }
  return target;
}

/** `GET /campaign/:id/insights`: `rawId` as Hono decodes it, `queryText` after the `?`. */
export function campaignInsightsPlan(
  deps: AppDeps,
  rawId: string,
  queryText: string,
): InsightsPlan {
  const id = CampaignIdParam.safeParse(rawId);
  if (!id.success) throw new BadRequest("id", `id: ${id.error.issues[0].message}`);
  const query = parseQueryString(queryText, CampaignInsightsQuery);
  const timeZone = query.tz ?? deps.defaultTimeZone;
  const target = checkedTarget(deps, query.currency);
  const key = `campaign-insights|${id.data}|${timeZone}|${target ?? ""}|${JSON.stringify(query)}`;
  // Ranges are resolved on a miss only: a hit needs no calendar work (and an invalid
  // range throws before anything is cached).
  const compute = async (tenant: string) => {
    const reading = readingFor(deps, query.currency, timeZone);
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
  };
  return { key, compute };
}

/** `GET /insights`: `queryText` after the `?`. */
export function insightsPlan(deps: AppDeps, queryText: string): InsightsPlan {
  const query = parseQueryString(queryText, InsightsQuery);
  const timeZone = query.tz ?? deps.defaultTimeZone;
  if (query.order_by && !query.group_by) {
    throw new BadRequest("order_by", "order_by needs group_by (platform or campaign)");
  }
  const target = checkedTarget(deps, query.currency);
  const key = `insights|${timeZone}|${target ?? ""}|${JSON.stringify(query)}`;
  const compute = async (tenant: string) => {
    const reading = readingFor(deps, query.currency, timeZone);
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
  };
  return { key, compute };
}

/** The text after `?` of a request URL ("" without one). */
export function queryTextOf(url: string): string {
  const mark = url.indexOf("?");
  return mark < 0 ? "" : url.slice(mark + 1);
}

export function registerInsightsRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get("/campaign/:id/insights", (c) => {
    const plan = campaignInsightsPlan(deps, c.req.param("id"), queryTextOf(c.req.url));
    const tenant = c.get("principal").tenant;
    return cachedJson(c, deps, tenant, plan.key, () => plan.compute(tenant));
  });

  app.get("/insights", (c) => {
    const plan = insightsPlan(deps, queryTextOf(c.req.url));
    const tenant = c.get("principal").tenant;
    return cachedJson(c, deps, tenant, plan.key, () => plan.compute(tenant));
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
