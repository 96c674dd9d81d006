/** `GET /campaigns`: the tenant's campaigns with lifetime totals, cursor-paginated. */
import type { Hono } from "hono";
import type { CampaignsPage } from "../lib/api.ts";
import { presentCampaign } from "../lib/insights_report.ts";
import { InvalidCursorError } from "../lib/store/metrics_store.ts";
import { type AppDeps, type AppEnv, cachedJson } from "./context.ts";
import { BadRequest, CampaignsQuery, parseQuery } from "./params.ts";
import { readingFor } from "./fx_reads.ts";

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
