/**
 * Request parameters: one zod schema per endpoint, shared by validation and by the
 * OpenAPI document, plus the helpers that turn a bad value into a 400 naming it.
 */
import { z } from "zod";
import type { Context } from "hono";
import {
  EARLIEST_DATE,
  EARLIEST_INSTANT,
  isCalendarDate,
  isValidTimeZone,
  LATEST_QUERY_DATE,
  LATEST_QUERY_INSTANT,
  parseInstant,
} from "../lib/dates.ts";
import {
  CurrencySchema,
  GranularitySchema,
  hasControlCharacters,
  lineText,
  MetricNameSchema,
  type Platform,
  platformFromAlias,
} from "../lib/schema.ts";
import { CampaignSortSchema } from "../lib/store/metrics_store.ts";
import { resolveRange as resolveQueryRange } from "../lib/insights_report.ts";

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

/**
 * A calendar day (`YYYY-MM-DD`, inclusive) or an RFC 3339 instant, within the range
 * queries may cover (2000-01-01 to 2100-12-31): beyond it PostgreSQL cannot apply
 * every time zone, and no ad data exists there anyway.
 */
export const DateOrInstantParam = z.string().max(40).superRefine((text, ctx) => {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const instant = day ? undefined : parseInstant(text);
  if (day ? !isCalendarDate(text) : !instant) {
    ctx.addIssue({
      code: "custom",
      message: "expected a real calendar date YYYY-MM-DD or an RFC 3339 instant",
    });
  } else if (
    day
      ? text < EARLIEST_DATE || text > LATEST_QUERY_DATE
      : instant!.getTime() < EARLIEST_INSTANT.getTime() ||
        instant!.getTime() > LATEST_QUERY_INSTANT.getTime()
  ) {
    ctx.addIssue({
      code: "custom",
      message: `must be between ${EARLIEST_DATE} and ${LATEST_QUERY_DATE}`,
    });
  }
}).meta({ example: "2024-04-01" });

export const TimeZoneParam = z.string().max(64).refine(isValidTimeZone, "not an IANA time zone")
  .meta({ description: "IANA time zone for day boundaries and buckets", example: "UTC" });

export const CampaignIdParam = lineText().pipe(
  z.string().min(1, "must not be empty").max(128, "at most 128 characters"),
);

/** Plain decimal digits only: `0x10`, ` 5`, `1e1` and `5.0` are not limits. */
const limitParam = (max: number, fallback: number) =>
  z.string().regex(/^[0-9]{1,9}$/, "expected a whole number (decimal digits)").transform(Number)
    .pipe(z.number().min(1, "must be at least 1").max(max, `must be at most ${max}`))
    .default(fallback);

/**
 * The `currency` value that asks for money in its own currencies (no conversion), even
 * where the deployment sets REPORTING_CURRENCY.
 */
export const NATIVE_CURRENCY = "native";

/**
 * The reporting currency: money in other currencies is converted at each day's rate;
 * `native` opts out of conversion (and of REPORTING_CURRENCY).
 */
export const ReportingCurrencyParam = z.string().transform((value, ctx) => {
  if (value.trim().toLowerCase() === NATIVE_CURRENCY) return NATIVE_CURRENCY;
  const code = CurrencySchema.safeParse(value);
  if (code.success) return code.data;
  ctx.addIssue({
    code: "custom",
    message: `${code.error.issues[0].message}, or "${NATIVE_CURRENCY}" for money in its own ` +
      "currencies",
  });
  return z.NEVER;
}).meta({
  description: "Report money in this currency (ISO 4217), converting other currencies at the " +
    "exchange rate of each calendar day (see POST /fx-rates); 422 when a rate is missing. " +
    `"${NATIVE_CURRENCY}": no conversion, money in its own currencies (overrides the ` +
    "deployment's REPORTING_CURRENCY)",
  example: "USD",
});

/** Only rows whose own money is in this currency. */
export const SourceCurrencyParam = CurrencySchema.meta({
  description: "Only rows recorded in this currency (ISO 4217)",
  example: "EUR",
});

export const CampaignInsightsQuery = z.object({
  from: DateOrInstantParam.optional(),
  to: DateOrInstantParam.optional(),
  platform: PlatformListParam.optional(),
  granularity: GranularitySchema.optional(),
  tz: TimeZoneParam.optional(),
  currency: ReportingCurrencyParam.optional(),
  source_currency: SourceCurrencyParam.optional(),
});

export const CampaignsQuery = z.object({
  platform: PlatformListParam.optional(),
  q: lineText().pipe(z.string().max(200)).optional(),
  sort: CampaignSortSchema.default("latest"),
  limit: limitParam(100, 20),
  cursor: z.string().max(512).optional(),
  currency: ReportingCurrencyParam.optional(),
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
  currency: ReportingCurrencyParam.optional(),
  source_currency: SourceCurrencyParam.optional(),
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

/**
 * Parsed queries by schema and raw query string. The query schemas are pure (no clock,
 * no I/O), so the same text always parses to the same value: a repeated query (what a
 * cached read is) skips URL parsing and validation. Only successes are kept, frozen,
 * at most QUERY_CACHE_SIZE per schema (the oldest dropped first).
 */
const parsedQueries = new WeakMap<z.ZodType, Map<string, unknown>>();
const QUERY_CACHE_SIZE = 1024;

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** Validates a query string against a schema; the first problem becomes a 400. */
export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  const url = c.req.url;
  const mark = url.indexOf("?");
  return parseQueryString(mark < 0 ? "" : url.slice(mark + 1), schema);
}

/** `parseQuery` of a query string (the text after `?`): the same cache, the same 400s. */
export function parseQueryString<T extends z.ZodType>(text: string, schema: T): z.output<T> {
  let known = parsedQueries.get(schema);
  const hit = known?.get(text);
  if (hit !== undefined) return hit as z.output<T>;
  const parsed = deepFreeze(parseQueryText(text, schema));
  if (!known) parsedQueries.set(schema, known = new Map());
  if (known.size >= QUERY_CACHE_SIZE) known.delete(known.keys().next().value!);
  known.set(text, parsed);
  return parsed;
}

function parseQueryText<T extends z.ZodType>(text: string, schema: T): z.output<T> {
  const raw: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (key in raw) throw new BadRequest(key, `"${key}" given more than once`);
    // No parameter is multi-line text, and NUL cannot even reach PostgreSQL.
    if (hasControlCharacters(value)) {
      throw new BadRequest(key, `${key}: must not contain control characters`);
    }
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
  return resolveQueryRange(query, timeZone, (field, message) => new BadRequest(field, message));
}
