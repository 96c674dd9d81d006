/**
 * The insights API's answers, one schema per shape: the handlers build them (and
 * describe them in OpenAPI), the bot's HTTP client reads them.
 */
import { z } from "zod";
import { TotalsSchema } from "./kpi.ts";
import { FxInfoSchema } from "./fx/convert.ts";

export const CurrencyTotalsSchema = TotalsSchema.extend({ currency: z.string() });
export const PlatformTotalsSchema = TotalsSchema.extend({ platform: z.string() });
export const SeriesPointSchema = TotalsSchema.extend({ bucket: z.string() });

/** `GET /campaign/:id/insights` */
export const CampaignInsightsSchema = z.object({
  campaign_id: z.string(),
  campaign_name: z.string().nullable(),
  platform: z.string().nullable().describe("the platform filter; null = all platforms"),
  from: z.string().nullable(),
  to: z.string().nullable(),
  time_zone: z.string(),
  currency: z.string().nullable().describe("null when the rows span several currencies"),
  totals: TotalsSchema,
  by_platform: z.array(PlatformTotalsSchema),
  by_currency: z.array(CurrencyTotalsSchema).optional(),
  series: z.array(SeriesPointSchema).optional(),
  fx: FxInfoSchema.optional().describe("present when money was converted (currency=)"),
});
export type CampaignInsights = z.infer<typeof CampaignInsightsSchema>;

/** One group of `GET /insights?group_by=...`. */
export const InsightsGroupSchema = TotalsSchema.extend({
  platform: z.string().optional(),
  campaign_id: z.string().optional(),
  campaign_name: z.string().nullable().optional(),
  bucket: z.string().optional(),
  currency: z.string().nullable(),
});
export type InsightsGroup = z.infer<typeof InsightsGroupSchema>;

/** `GET /insights` */
export const InsightsSchema = z.object({
  from: z.string().nullable(),
  to: z.string().nullable(),
  time_zone: z.string(),
  platforms: z.array(z.string()),
  campaign_id: z.string().nullable(),
  currency: z.string().nullable(),
  totals: TotalsSchema,
  by_currency: z.array(CurrencyTotalsSchema).optional(),
  group_by: z.string().nullable(),
  groups: z.array(InsightsGroupSchema).optional(),
  fx: FxInfoSchema.optional().describe("present when money was converted (currency=)"),
});
export type Insights = z.infer<typeof InsightsSchema>;

/** One campaign of `GET /campaigns`. */
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
export type Campaign = z.infer<typeof CampaignSchema>;

/** `GET /campaigns` */
export const CampaignsPageSchema = z.object({
  campaigns: z.array(CampaignSchema),
  next_cursor: z.string().nullable(),
  fx: FxInfoSchema.optional().describe("present when money was converted (currency=)"),
});
export type CampaignsPage = z.infer<typeof CampaignsPageSchema>;
