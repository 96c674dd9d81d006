/** The insights API's operations, described for the OpenAPI document. */
import { z } from "zod";
import type { Operation } from "./openapi.ts";
import { CampaignIdParam, CampaignInsightsQuery, CampaignsQuery, InsightsQuery } from "./params.ts";
import { CampaignInsightsSchema, CampaignsPageSchema, InsightsSchema } from "../lib/api.ts";

export const API_OPERATIONS: readonly Operation[] = [
  {
    method: "get",
    path: "/campaign/{id}/insights",
    summary: "One campaign's totals, per-platform breakdown and optional series",
    tags: ["insights"],
    pathParams: { id: CampaignIdParam },
    query: CampaignInsightsQuery,
    response: CampaignInsightsSchema,
    scope: "insights:read",
    statuses: [400, 404, 422],
  },
  {
    method: "get",
    path: "/campaigns",
    summary: "The tenant's campaigns with lifetime totals (cursor pagination)",
    tags: ["insights"],
    query: CampaignsQuery,
    response: CampaignsPageSchema,
    scope: "insights:read",
    statuses: [400, 422],
  },
  {
    method: "get",
    path: "/insights",
    summary: "Totals across campaigns, grouped by platform, campaign or time bucket",
    tags: ["insights"],
    query: InsightsQuery,
    response: InsightsSchema,
    scope: "insights:read",
    statuses: [400, 422],
  },
  {
    method: "get",
    path: "/healthz",
    summary: "Liveness: the process is up",
    tags: ["operations"],
    response: z.object({ status: z.literal("ok") }),
  },
  {
    method: "get",
    path: "/readyz",
    summary: "Readiness: database and cache reachable (503 names what is not)",
    tags: ["operations"],
    response: z.object({ status: z.string(), checks: z.record(z.string(), z.string()) }),
    statuses: [503],
  },
  {
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics (text exposition format); operators only: METRICS_TOKEN " +
      "or a JWT with the ops:read scope",
    tags: ["operations"],
    responseType: "text/plain",
    scope: "ops:read",
  },
];
