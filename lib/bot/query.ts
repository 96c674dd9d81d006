/**
 * The structured query the bot extracts from a prompt (docs/bot.md).
 * Keys are snake_case because the shape travels as JSON between the parser, the
 * executor and the evaluation files.
 */
import { z } from "zod";
import {
  COUNT_MEASURES,
  CURRENCY_BOUND_MEASURES,
  LOWER_IS_BETTER,
  MONEY_MEASURES,
} from "../kpi.ts";
import { type MetricName, PlatformSchema } from "../schema.ts";

/** Canonical metric names the bot speaks; `spend` is the API's `cost`. */
export const BOT_METRICS = [
  "impressions",
  "clicks",
  "conversions",
  "spend",
  "revenue",
  "ctr",
  "roas",
  "cpa",
  "cpc",
  "cpm",
  "cvr",
] as const;
export const BotMetricSchema = z.enum(BOT_METRICS);
export type BotMetric = z.infer<typeof BotMetricSchema>;

/** The bot says "spend", the API says "cost". */
export function apiMetric(metric: BotMetric): MetricName {
  return metric === "spend" ? "cost" : metric;
}

/** Measured in a currency. */
export function isMoneyMetric(metric: BotMetric): boolean {
  return MONEY_MEASURES.has(apiMetric(metric));
}

/** Money or ROAS: reported per currency when totals span several. */
export function isCurrencyBound(metric: BotMetric): boolean {
  return CURRENCY_BOUND_MEASURES.has(apiMetric(metric));
}

/** A price: "best" is the lowest. */
export function lowerIsBetter(metric: BotMetric): boolean {
  return LOWER_IS_BETTER.has(apiMetric(metric));
}

/** A whole count of events. */
export function isCountMetric(metric: BotMetric): boolean {
  return COUNT_MEASURES.has(apiMetric(metric));
}

export const INTENTS = [
  "metric",
  "trend",
  "compare",
  "rank",
  "list_campaigns",
  "explain",
  "unknown",
] as const;
export const IntentSchema = z.enum(INTENTS);
export type Intent = z.infer<typeof IntentSchema>;

export const GROUP_BYS = ["day", "week", "month", "platform", "campaign"] as const;
export const GroupBySchema = z.enum(GROUP_BYS);
export type GroupBy = z.infer<typeof GroupBySchema>;

export const SortOrderSchema = z.enum(["asc", "desc"]);
export type SortOrder = z.infer<typeof SortOrderSchema>;

/** A calendar date, YYYY-MM-DD. */
export const IsoDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD");

/** An inclusive range of calendar dates. */
export const DateRangeSchema = z.object({ from: IsoDateSchema, to: IsoDateSchema });
export type DateRange = z.infer<typeof DateRangeSchema>;

/** An ISO 4217 currency code, upper case. */
export const CurrencyCodeSchema = z.string().regex(/^[A-Z]{3}$/, "expected an ISO 4217 code");

export const CampaignRefSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("id"), value: z.string().min(1) }),
  z.object({ type: z.literal("latest") }),
  z.object({ type: z.literal("name"), value: z.string().min(1) }),
]);
export type CampaignRef = z.infer<typeof CampaignRefSchema>;

export const ParsedQuerySchema = z.object({
  intent: IntentSchema,
  /** `[]` asks for a summary of the key metrics. */
  metrics: z.array(BotMetricSchema),
  /** `[]` means all platforms. */
  platforms: z.array(PlatformSchema),
  /** `null` when the prompt names no time. */
  date_range: DateRangeSchema.nullable(),
  /** The second period of a period comparison. */
  compare_to: DateRangeSchema.nullable(),
  /** `null` means all campaigns. */
  campaign: CampaignRefSchema.nullable(),
  group_by: GroupBySchema.nullable(),
  order: SortOrderSchema.nullable(),
  limit: z.number().int().positive().nullable(),
  /** ISO 4217 code the money should be shown in; `null` keeps the stored currencies. */
  currency: CurrencyCodeSchema.nullable(),
});
export type ParsedQuery = z.infer<typeof ParsedQuerySchema>;

/** The answer for prompts that are not about ad performance. */
export function unknownQuery(): ParsedQuery {
  return {
    intent: "unknown",
    metrics: [],
    platforms: [],
    date_range: null,
    compare_to: null,
    campaign: null,
    group_by: null,
    order: null,
    limit: null,
    currency: null,
  };
}
