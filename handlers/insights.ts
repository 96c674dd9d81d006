/**
 * The insights endpoints: one campaign's KPIs (`GET /campaign/:id/insights`) and
 * totals with groups across campaigns (`GET /insights`). Answers are cached per
 * tenant and data version, so a cached answer is never older than the last write.
 */
import type { Hono } from "hono";
import type { z } from "zod";
import { calendarDateIn } from "../lib/dates.ts";
import { type CurrencyReport, reportCurrencies } from "../lib/kpi.ts";
import type { CampaignInsights, Insights, InsightsGroup } from "../lib/api.ts";
import type { MetricName, Platform } from "../lib/schema.ts";
import type { SumsRow } from "../lib/store/metrics_store.ts";
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

/** Rows that share a key (platform, bucket, ...) folded into one report each, in order. */
function reportBy<K extends string>(
  rows: readonly (SumsRow & Record<K, string>)[],
  key: K,
  fallbackCurrency: string | null,
): (CurrencyReport & { key: string })[] {
  const groups = new Map<string, SumsRow[]>();
  for (const row of rows) {
    const group = groups.get(row[key]);
    if (group) group.push(row);
    else groups.set(row[key], [row]);
  }
  return [...groups].map(([value, members]) => ({
    key: value,
    ...reportCurrencies(members, fallbackCurrency),
  }));
}

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
      const visible = catalog.filter((entry) =>
        platforms.length === 0 || platforms.includes(entry.platform)
      );
      const fallbackCurrency = reading.target ?? (visible[0] ?? catalog[0]).currency;
      const report = reportCurrencies(totals.totals, fallbackCurrency);
      const seen = catalog.map((entry) => [entry.first_seen, entry.last_seen]).flat()
        .filter((date): date is Date => date instanceof Date).map((date) => date.getTime());
      const body: CampaignInsights = {
        campaign_id: id.data,
        campaign_name: catalog.find((entry) => entry.name)?.name ?? null,
        platform: platforms.length === 1
          ? platforms[0]
          : platforms.length
          ? platforms.join(",")
          : null,
        from: query.from ??
          (seen.length ? calendarDateIn(new Date(Math.min(...seen)), timeZone) : null),
        to: query.to ??
          (seen.length ? calendarDateIn(new Date(Math.max(...seen)), timeZone) : null),
        time_zone: timeZone,
        currency: report.currency,
        totals: report.totals,
        by_platform: reportBy(totals.by_platform, "platform", fallbackCurrency).map((group) => ({
          platform: group.key,
          ...group.totals,
        })),
        ...(report.by_currency ? { by_currency: report.by_currency } : {}),
        ...(series
          ? {
            series: reportBy(series, "bucket", fallbackCurrency).map((point) => ({
              bucket: point.key,
              ...point.totals,
            })),
          }
          : {}),
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
      const report = reportCurrencies(totals.totals, reading.target ?? null);
      const body: Insights = {
        from: query.from ?? null,
        to: query.to ?? null,
        time_zone: timeZone,
        platforms: selection.platforms,
        campaign_id: query.campaign_id ?? null,
        currency: report.currency,
        totals: report.totals,
        ...(report.by_currency ? { by_currency: report.by_currency } : {}),
        group_by: query.group_by ?? null,
        ...(groups ? { groups } : {}),
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
    const series = await reader.series(selection, groupBy, timeZone);
    return reportBy(series, "bucket", target).map((point) => ({
      bucket: point.key,
      currency: point.currency,
      ...point.totals,
    }));
  }
  const metric: MetricName = query.order_by ?? "cost";
  const ranked = await reader.rank(selection, {
    groupBy,
    metric,
    order: query.order ?? "desc",
    limit: query.limit,
  });
  return ranked.map((row) => {
    const report = reportCurrencies([row]);
    return {
      platform: row.platform,
      ...(groupBy === "campaign"
        ? { campaign_id: row.campaign_id ?? undefined, campaign_name: row.campaign_name }
        : {}),
      currency: report.currency,
      ...report.totals,
    };
  });
}
