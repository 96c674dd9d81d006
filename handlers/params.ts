/**
 * Request parameters: one zod schema per endpoint, shared by validation and by the
 * OpenAPI document, plus the helpers that turn a bad value into a 400 naming it.
 */
import { z } from "zod";
import type { Context } from "hono";
import { isCalendarDate, isValidTimeZone, shiftDate, startOfDayIn } from "../lib/dates.ts";
import {
  CurrencySchema,
  GranularitySchema,
  MetricNameSchema,
  type Platform,
  platformFromAlias,
} from "../lib/schema.ts";
import { CampaignSortSchema } from "../lib/store/metrics_store.ts";

/** `platform=Google,facebook` → ["google", "meta"]: case-insensitive, aliases allowed. */
export const PlatformListParam = z.string().max(200).transform((text, ctx) => {
  const platforms: Platform[] = [];
  for (const name of text.split(",").map((part) => part.trim()).filter(Boolean)) {
    const platform = platformFromAlias(name);
    if (!platform) {
      ctx.addIssue({
        code: "custom",
        message: `unknown platform "${name}" (meta, google, linkedin, tiktok or an alias)`,
      });
      return z.NEVER;
    }
    if (!platforms.includes(platform)) platforms.push(platform);
  }
  return platforms;
}).meta({
  description: "Platform or comma-separated platforms; case-insensitive, aliases such as " +
    "facebook and instagram (meta) or adwords (google) are accepted",
  example: "google",
});

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** A calendar day (`YYYY-MM-DD`, inclusive) or an RFC 3339 instant. */
export const DateOrInstantParam = z.string().max(40).refine(
  (text) =>
    (RFC3339.test(text) || /^\d{4}-\d{2}-\d{2}$/.test(text)) && isCalendarDate(text.slice(0, 10)) &&
    !Number.isNaN(Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text)),
  "expected a real calendar date YYYY-MM-DD or an RFC 3339 instant",
).meta({ example: "2024-04-01" });

export const TimeZoneParam = z.string().max(64).refine(isValidTimeZone, "not an IANA time zone")
  .meta({ description: "IANA time zone for day boundaries and buckets", example: "UTC" });

export const CampaignIdParam = z.string().trim().min(1, "must not be empty").max(
  128,
  "at most 128 characters",
);

const limitParam = (max: number, fallback: number) =>
  z.coerce.number({ error: "expected an integer" }).int("expected an integer").min(
    1,
    "must be at least 1",
  ).max(max, `must be at most ${max}`).default(fallback);

export const CampaignInsightsQuery = z.object({
  from: DateOrInstantParam.optional(),
  to: DateOrInstantParam.optional(),
  platform: PlatformListParam.optional(),
  granularity: GranularitySchema.optional(),
  tz: TimeZoneParam.optional(),
  currency: CurrencySchema.optional(),
});

export const CampaignsQuery = z.object({
  platform: PlatformListParam.optional(),
  q: z.string().trim().max(200).optional(),
  sort: CampaignSortSchema.default("latest"),
  limit: limitParam(100, 20),
  cursor: z.string().max(512).optional(),
});

export const GROUP_BYS = ["platform", "campaign", "hour", "day", "week", "month"] as const;

export const InsightsQuery = z.object({
  from: DateOrInstantParam.optional(),
  to: DateOrInstantParam.optional(),
  platform: PlatformListParam.optional(),
  campaign_id: CampaignIdParam.optional(),
  group_by: z.enum(GROUP_BYS).optional(),
  order_by: MetricNameSchema.optional(),
  order: z.enum(["asc", "desc"]).optional(),
  limit: limitParam(1000, 10),
  tz: TimeZoneParam.optional(),
  currency: CurrencySchema.optional(),
});

/** A 400 answer: `field` names the parameter at fault. */
export class BadRequest extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** A 404 answer (also for what exists but belongs to another tenant). */
export class NotFound extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** Validates a query string against a schema; the first problem becomes a 400. */
export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  const raw: Record<string, string> = {};
  for (const [key, value] of new URL(c.req.url).searchParams) {
    if (key in raw) throw new BadRequest(key, `"${key}" given more than once`);
    raw[key] = value;
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length ? String(issue.path[0]) : "query";
  const message = issue.code === "invalid_value" || issue.code === "invalid_union"
    ? `invalid value for ${field}: ${issue.message}`
    : `${field}: ${issue.message}`;
  throw new BadRequest(field, message);
}

export interface ResolvedRange {
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

/**
 * Calendar days are whole days in `timeZone` (`to` inclusive); instants are used as
 * given (`to` exclusive). `from` after `to` is refused.
 */
export function resolveRange(
  query: { from?: string; to?: string },
  timeZone: string,
): ResolvedRange {
  const from = query.from === undefined
    ? undefined
    : query.from.length === 10
    ? startOfDayIn(query.from, timeZone)
    : new Date(query.from);
  const to = query.to === undefined
    ? undefined
    : query.to.length === 10
    ? startOfDayIn(shiftDate(query.to, 1), timeZone)
    : new Date(query.to);
  if (from && to && from.getTime() >= to.getTime()) {
    throw new BadRequest("from", "from must be before to");
  }
  return { from, to };
}
