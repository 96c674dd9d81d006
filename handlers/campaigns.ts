/** `GET /campaigns`: the tenant's campaigns with lifetime totals, cursor-paginated. */
import type { Hono } from "hono";
import { z } from "zod";
import { reportCurrencies, TotalsSchema } from "../lib/metrics.ts";
import { InvalidCursorError } from "../lib/store/metrics_store.ts";
import type { CampaignSummary } from "../lib/store/metrics_store.ts";
import { type AppDeps, type AppEnv, cachedJson } from "./context.ts";
import { BadRequest, CampaignsQuery, parseQuery } from "./params.ts";

export const CampaignSchema = z.object({
  campaign_id: z.string(),
  name: z.string().nullable(),
  platform: z.string(),
  account_id: z.string(),
  status: z.string().nullable(),
  currency: z.string().nullable(),
  started_at: z.string().nullable(),
  first_seen: z.string().nullable(),
  last_seen: z.string().nullable(),
  totals: TotalsSchema.describe("lifetime totals"),
});

export const CampaignsResponse = z.object({
  campaigns: z.array(CampaignSchema),
  next_cursor: z.string().nullable(),
});

export function presentCampaign(campaign: CampaignSummary): z.infer<typeof CampaignSchema> {
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
    return cachedJson(c, deps, tenant, `campaigns|${JSON.stringify(query)}`, async () => {
      try {
        const page = await deps.store.listCampaigns({
          tenantId: tenant,
          platforms: query.platform,
          q: query.q,
          sort: query.sort,
          limit: query.limit,
          cursor: query.cursor,
        });
        const body: z.infer<typeof CampaignsResponse> = {
          campaigns: page.items.map(presentCampaign),
          next_cursor: page.next_cursor,
        };
        return body;
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new BadRequest("cursor", error.message);
        throw error;
      }
    });
  });
}
