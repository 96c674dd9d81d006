/** `GET /campaigns`: the tenant's campaigns with lifetime totals, cursor-paginated. */
import type { Hono } from "hono";
import { reportCurrencies } from "../lib/kpi.ts";
import type { Campaign, CampaignsPage } from "../lib/api.ts";
import { InvalidCursorError } from "../lib/store/metrics_store.ts";
import type { CampaignSummary } from "../lib/store/metrics_store.ts";
import { type AppDeps, type AppEnv, cachedJson } from "./context.ts";
import { BadRequest, CampaignsQuery, parseQuery } from "./params.ts";
import { readingFor } from "./fx_reads.ts";

export function presentCampaign(campaign: CampaignSummary): Campaign {
  return {
    campaign_id: campaign.campaign_id,
    name: campaign.name,
    platform: campaign.platform,
    account_id: campaign.account_id,
    status: campaign.status,
    currency: campaign.currency,
    started_at: campaign.started_at?.toISOString() ?? null,
    first_seen: campaign.first_seen?.toISOString() ?? null,
    last_seen: campaign.last_seen?.toISOString() ?? null,
    totals: reportCurrencies(campaign.lifetime, campaign.currency).totals,
  };
}

export function registerCampaignRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get("/campaigns", (c) => {
    const query = parseQuery(c, CampaignsQuery);
    const tenant = c.get("principal").tenant;
    const reading = readingFor(deps, query.currency, deps.defaultTimeZone);
    const key = `campaigns|${reading.target ?? ""}|${JSON.stringify(query)}`;
    return cachedJson(c, deps, tenant, key, async () => {
      try {
        const page = await deps.store.listCampaigns({
          tenantId: tenant,
          platforms: query.platform,
          q: query.q,
          sort: query.sort,
          limit: query.limit,
          cursor: query.cursor,
        });
        const items = await reading.lifetimes(tenant, page.items);
        const body: CampaignsPage = {
          campaigns: items.map(presentCampaign),
          next_cursor: page.next_cursor,
          ...(reading.target ? { fx: reading.fx() } : {}),
        };
        return body;
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new BadRequest("cursor", error.message);
        throw error;
      }
    });
  });
}
