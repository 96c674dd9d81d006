/**
 * The shared vocabulary of the system: every source produces `MetricRow`s, every
 * query is described with these types. Types are inferred from the zod schemas so
 * that validation and typing can never drift apart.
 */
import { z } from "zod";
import { EARLIEST_DATE, EARLIEST_INSTANT, latestRowInstant, parseInstant } from "./dates.ts";
import { numberToDecimalText } from "./decimal.ts";

/**
 * The ad platforms the system reads, by their canonical ids.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PLATFORMS } from "@campaign-analytics/core";
 *
 * assert.ok(PLATFORMS.includes("linkedin"));
 * ```
 */
export const PLATFORMS = ["meta", "google", "linkedin", "tiktok"] as const;
export const PlatformSchema = z.enum(PLATFORMS);
/** One of {@linkcode PLATFORMS}. */
export type Platform = "meta" | "google" | "linkedin" | "tiktok";

/**
 * Names people use for the platforms, lower-cased; the canonical ids map to themselves.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PLATFORM_ALIASES } from "@campaign-analytics/core";
 *
 * assert.equal(PLATFORM_ALIASES["facebook"], "meta");
 * ```
 */
export const PLATFORM_ALIASES: Readonly<Record<string, Platform>> = {
  meta: "meta",
  facebook: "meta",
  fb: "meta",
  instagram: "meta",
  ig: "meta",
  insta: "meta",
  google: "google",
  "google ads": "google",
  googleads: "google",
  adwords: "google",
  youtube: "google",
  linkedin: "linkedin",
  "linked in": "linkedin",
  tiktok: "tiktok",
  "tik tok": "tiktok",
};

/**
 * Resolves a platform name or alias, case-insensitively; undefined when unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { platformFromAlias } from "@campaign-analytics/core";
 *
 * assert.equal(platformFromAlias("Tik Tok"), "tiktok");
 * assert.equal(platformFromAlias("myspace"), undefined);
 * ```
 */
export function platformFromAlias(name: string): Platform | undefined {
  const key = name.trim().toLowerCase().replace(/[\s_-]+/g, " ");
  return PLATFORM_ALIASES[key] ?? PLATFORM_ALIASES[key.replace(/ /g, "")];
}

/** A non-negative integer count that stays exact as a JS number (≤ 2^53 − 1). */
export const CountSchema = z.union([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z.string().regex(/^\d{1,16}$/, "expected a non-negative integer").transform(Number).pipe(
    z.number().max(Number.MAX_SAFE_INTEGER),
  ),
]);

const DECIMAL_PATTERN = /^\d{1,15}(\.\d{1,12})?$/;

/**
 * A non-negative exact decimal, carried as a canonical string ("12.30") so that money
 * never passes through a float. Numbers are accepted at the boundary and converted with
 * their shortest round-trip representation, which is exactly what the sender wrote.
 */
export const DecimalSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = typeof value === "number" ? numberToDecimalText(value) : value.trim();
  if (!DECIMAL_PATTERN.test(text)) {
    ctx.addIssue({
      code: "custom",
      message: "expected a non-negative decimal with at most 15 integer and 12 fraction digits",
    });
    return z.NEVER;
  }
  return text;
});

export const CurrencySchema = z.string().trim().toUpperCase().regex(
  /^[A-Z]{3}$/,
  "expected an ISO 4217 currency code",
).refine(isKnownCurrency, "unknown ISO 4217 currency code");

/** ISO 4217 codes the runtime knows (Intl accepts any well-formed code, so ask for the list). */
const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

function isKnownCurrency(code: string): boolean {
  return KNOWN_CURRENCIES.has(code);
}

/**
 * Control characters (NUL, line breaks, escapes, DEL) have no place in names and ids;
 * NUL in particular cannot be stored in a PostgreSQL text column at all.
 */
// deno-lint-ignore no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export function hasControlCharacters(text: string): boolean {
  return CONTROL_CHARACTERS.test(text);
}

/** A single-line text: no control characters (checked before trimming, so none hide). */
export function lineText() {
  return z.string().refine(
    (text) => !hasControlCharacters(text),
    "must not contain control characters (NUL, line breaks, ...)",
  ).transform((text) => text.trim());
}

/** A value echoed in an error message: one line, at most 64 characters. */
export function echo(text: string): string {
  // deno-lint-ignore no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, "\uFFFD");
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}

export const IdSchema = lineText().pipe(z.string().min(1).max(128));
export const TenantIdSchema = z.string().trim().min(1).max(64).regex(
  /^[A-Za-z0-9._-]+$/,
  "letters, digits, dot, dash and underscore only",
);

/**
 * An instant: a Date, or an RFC 3339 string with an offset on a real calendar date, no
 * earlier than 2000-01-01 (the upper bound depends on the clock: see validateRows).
 */
export const InstantSchema = z.union([z.date(), z.string().max(40)]).transform((value, ctx) => {
  const date = typeof value === "string" ? parseInstant(value) : value;
  if (!date || Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: "custom", message: "expected an RFC 3339 instant with an offset" });
    return z.NEVER;
  }
  if (date.getTime() < EARLIEST_INSTANT.getTime()) {
    ctx.addIssue({ code: "custom", message: `must not be before ${EARLIEST_DATE}` });
    return z.NEVER;
  }
  return date;
});

/** The unified record every source produces: one campaign, one time bucket. */
export const MetricRowSchema = z.object({
  tenant_id: TenantIdSchema.default("default"),
  platform: z.string().max(64).transform((name, ctx) => {
    const platform = hasControlCharacters(name) ? undefined : platformFromAlias(name);
    if (platform) return platform;
    ctx.addIssue({ code: "custom", message: `unknown platform "${echo(name)}"` });
    return z.NEVER;
  }),
  account_id: IdSchema,
  campaign_id: IdSchema,
  campaign_name: lineText().pipe(z.string().max(512)).optional(),
  campaign_status: lineText().pipe(z.string().max(64)).optional(),
  ts: InstantSchema,
  impressions: CountSchema,
  clicks: CountSchema,
  conversions: DecimalSchema,
  cost: DecimalSchema,
  revenue: DecimalSchema,
  currency: CurrencySchema,
  source: lineText().pipe(z.string().min(1).max(64)).default("api"),
});
/**
 * A metric row as a source sends it, before validation: counts and money may be numbers
 * or strings, the instant a Date or an RFC 3339 string, the platform any alias.
 */
export interface MetricRowInput {
  /** The tenant the row belongs to; default "default". */
  tenant_id?: string;
  /** A platform id or alias ("google", "Facebook", "tik tok", ...). */
  platform: string;
  /** The ad account on the platform. */
  account_id: string;
  /** The campaign id on the platform. */
  campaign_id: string;
  /** The campaign's display name, when the source knows it. */
  campaign_name?: string;
  /** The campaign's status on the platform ("active", "paused", ...). */
  campaign_status?: string;
  /** Start of the time bucket the numbers cover (an hour or a day). */
  ts: Date | string;
  /** Times an ad was shown: a non-negative integer. */
  impressions: number | string;
  /** Clicks: a non-negative integer. */
  clicks: number | string;
  /** Conversions, possibly fractional: an exact decimal. */
  conversions: string | number;
  /** Money spent, in `currency`: an exact decimal. */
  cost: string | number;
  /** Conversion value, in `currency`: an exact decimal. */
  revenue: string | number;
  /** ISO 4217 code of the money fields. */
  currency: string;
  /** Where the row came from (a connector's name); default "api". */
  source?: string;
}

/** A validated metric row: canonical platform, exact decimal strings, a Date instant. */
export interface MetricRow {
  /** The tenant the row belongs to. */
  tenant_id: string;
  /** The canonical platform id. */
  platform: Platform;
  /** The ad account on the platform. */
  account_id: string;
  /** The campaign id on the platform. */
  campaign_id: string;
  /** The campaign's display name, when the source knew it. */
  campaign_name?: string;
  /** The campaign's status on the platform. */
  campaign_status?: string;
  /** Start of the time bucket the numbers cover. */
  ts: Date;
  /** Times an ad was shown. */
  impressions: number;
  /** Clicks. */
  clicks: number;
  /** Conversions, as canonical decimal text ("1.5"). */
  conversions: string;
  /** Money spent, as canonical decimal text ("12.30"). */
  cost: string;
  /** Conversion value, as canonical decimal text. */
  revenue: string;
  /** ISO 4217 code of the money fields, upper case. */
  currency: string;
  /** Where the row came from. */
  source: string;
}

/** What a batch write reports back: rows stored and rows refused with a reason each. */
export const RowRejectionSchema = z.object({
  index: z.number().int().nonnegative(),
  field: z.string(),
  error: z.string(),
});
/** A row a batch refused: where it was, which field, and why. */
export interface RowRejection {
  /** Position of the refused row in the batch. */
  index: number;
  /** The field at fault, or "row" for the row as a whole. */
  field: string;
  /** Why, in words. */
  error: string;
}

/** What one row may hold at most: a flat object of scalars, nothing a parser chokes on. */
export const ROW_LIMITS = { keys: 64, keyLength: 64, stringLength: 4096 } as const;

/**
 * Why a row is not a flat object of bounded scalars (strings, numbers, booleans, null
 * or Dates), as a rejection; undefined when it is. Checked before any schema runs, so
 * no nested or oversized value reaches a parser, a log line or the database.
 */
export function rowShapeProblem(item: unknown): { field: string; error: string } | undefined {
  if (!isRecord(item)) return { field: "row", error: "expected an object" };
  const keys = Object.keys(item);
  if (keys.length > ROW_LIMITS.keys) {
    return { field: "row", error: `at most ${ROW_LIMITS.keys} fields` };
  }
  for (const key of keys) {
    if (key.length > ROW_LIMITS.keyLength || hasControlCharacters(key)) {
      return { field: "row", error: "field names must be short, single-line text" };
    }
    const value = item[key];
    if (typeof value === "string") {
      if (value.length > ROW_LIMITS.stringLength) {
        return { field: key, error: `at most ${ROW_LIMITS.stringLength} characters` };
      }
    } else if (
      value !== null && typeof value !== "number" && typeof value !== "boolean" &&
      value !== undefined && !(value instanceof Date)
    ) {
      return { field: key, error: "expected a string, number, boolean or null" };
    }
  }
  return undefined;
}

/**
 * Validates raw rows one by one; bad rows are reported, never thrown away silently.
 * `now` bounds timestamps from above (a year ahead at most); the real clock by default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateRows } from "@campaign-analytics/core";
 *
 * const { rows, rejected } = validateRows([
 *   { platform: "Facebook", account_id: "a", campaign_id: "c", ts: "2024-05-01T00:00:00Z",
 *     impressions: 10, clicks: 1, conversions: 0, cost: 1.5, revenue: 0, currency: "usd" },
 *   { platform: "google", account_id: "a", campaign_id: "c", ts: "yesterday" },
 * ]);
 * assert.equal(rows[0].platform, "meta");
 * assert.equal(rows[0].cost, "1.5"); // exact decimal text
 * assert.equal(rows[0].currency, "USD");
 * assert.deepEqual(rejected.map((r) => [r.index, r.field]), [[1, "ts"]]);
 * ```
 */
export function validateRows(
  raw: readonly unknown[],
  defaults: { tenant_id?: string; source?: string } = {},
  now: Date = new Date(),
): { rows: MetricRow[]; rejected: RowRejection[] } {
  const rows: MetricRow[] = [];
  const rejected: RowRejection[] = [];
  const latest = latestRowInstant(now);
  raw.forEach((item, index) => {
    const shape = rowShapeProblem(item);
    if (shape) {
      rejected.push({ index, ...shape });
      return;
    }
    const withDefaults = isRecord(item) ? { ...defaults, ...item } : item;
    const fast = fastMetricRow(withDefaults);
    if (fast) {
      if (fast.ts.getTime() > latest.getTime()) {
        rejected.push({ index, field: "ts", error: "must not be more than a year in the future" });
      } else rows.push(fast);
      return;
    }
    const parsed = MetricRowSchema.safeParse(withDefaults);
    if (parsed.success && parsed.data.ts.getTime() > latest.getTime()) {
      rejected.push({ index, field: "ts", error: "must not be more than a year in the future" });
      return;
    }
    if (parsed.success) {
      rows.push(parsed.data);
      return;
    }
    const issue = parsed.error.issues[0];
    rejected.push({
      index,
      field: issue.path.length ? issue.path.join(".") : "row",
      error: issue.message,
    });
  });
  return { rows, rejected };
}

const TENANT_TEXT = /^[A-Za-z0-9._-]+$/;
const COUNT_TEXT = /^\d{1,16}$/;
const CURRENCY_TEXT = /^[A-Z]{3}$/;

/** A `lineText()` piped into a length check, or undefined where the schema would refuse. */
function fastLine(value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== "string" || hasControlCharacters(value)) return undefined;
  const text = value.trim();
  return text.length >= min && text.length <= max ? text : undefined;
}

function fastCount(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER
      ? value
      : undefined;
  }
  if (typeof value !== "string" || !COUNT_TEXT.test(value)) return undefined;
  const count = Number(value);
  return count <= Number.MAX_SAFE_INTEGER ? count : undefined;
}

function fastDecimal(value: unknown): string | undefined {
  const text = typeof value === "number"
    ? numberToDecimalText(value)
    : typeof value === "string"
    ? value.trim()
    : undefined;
  return text !== undefined && DECIMAL_PATTERN.test(text) ? text : undefined;
}

/**
 * MetricRowSchema's answer for an ordinary valid row, without zod (validation cost
 * 40–60 µs a row through the schema, which bulk ingestion paid on every row).
 * Undefined wherever the schema might answer otherwise (any doubt: a wrong type, a
 * bound, an unknown value): the caller then asks the schema, which also words the
 * rejection. Tests check that every row accepted here is the schema's own output.
 */
export function fastMetricRow(item: unknown): MetricRow | undefined {
  if (!isRecord(item)) return undefined;
  let tenant = "default";
  if (item.tenant_id !== undefined) {
    if (typeof item.tenant_id !== "string") return undefined;
    tenant = item.tenant_id.trim();
    if (tenant.length < 1 || tenant.length > 64 || !TENANT_TEXT.test(tenant)) return undefined;
  }
  const platformName = item.platform;
  if (
    typeof platformName !== "string" || platformName.length > 64 ||
    hasControlCharacters(platformName)
  ) return undefined;
  const platform = platformFromAlias(platformName);
  const accountId = fastLine(item.account_id, 1, 128);
  const campaignId = fastLine(item.campaign_id, 1, 128);
  if (!platform || accountId === undefined || campaignId === undefined) return undefined;
  const name = item.campaign_name === undefined ? undefined : fastLine(item.campaign_name, 0, 512);
  const status = item.campaign_status === undefined
    ? undefined
    : fastLine(item.campaign_status, 0, 64);
  if (
    (item.campaign_name !== undefined && name === undefined) ||
    (item.campaign_status !== undefined && status === undefined)
  ) return undefined;
  const rawTs = item.ts;
  const ts = rawTs instanceof Date
    ? rawTs
    : typeof rawTs === "string" && rawTs.length <= 40
    ? parseInstant(rawTs)
    : undefined;
  if (!ts || Number.isNaN(ts.getTime()) || ts.getTime() < EARLIEST_INSTANT.getTime()) {
    return undefined;
  }
  const impressions = fastCount(item.impressions);
  const clicks = fastCount(item.clicks);
  const conversions = fastDecimal(item.conversions);
  const cost = fastDecimal(item.cost);
  const revenue = fastDecimal(item.revenue);
  if (
    impressions === undefined || clicks === undefined || conversions === undefined ||
    cost === undefined || revenue === undefined
  ) return undefined;
  if (typeof item.currency !== "string") return undefined;
  const currency = item.currency.trim().toUpperCase();
  if (!CURRENCY_TEXT.test(currency) || !isKnownCurrency(currency)) return undefined;
  const source = item.source === undefined ? "api" : fastLine(item.source, 1, 64);
  if (source === undefined) return undefined;
  // Keys in the schema's order, as its output has them.
  const row: Record<string, unknown> = {
    tenant_id: tenant,
    platform,
    account_id: accountId,
    campaign_id: campaignId,
  };
  if (name !== undefined) row.campaign_name = name;
  if (status !== undefined) row.campaign_status = status;
  row.ts = ts;
  row.impressions = impressions;
  row.clicks = clicks;
  row.conversions = conversions;
  row.cost = cost;
  row.revenue = revenue;
  row.currency = currency;
  row.source = source;
  return row as unknown as MetricRow;
}

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Campaign metadata that sources report beside their rows. */
export const CampaignInfoSchema = z.object({
  tenant_id: TenantIdSchema,
  platform: PlatformSchema,
  account_id: IdSchema,
  campaign_id: IdSchema,
  name: z.string().max(512).nullable(),
  status: z.string().max(64).nullable(),
});
export type CampaignInfo = z.infer<typeof CampaignInfoSchema>;

export const GRANULARITIES = ["hour", "day", "week", "month"] as const;
export const GranularitySchema = z.enum(GRANULARITIES);
export type Granularity = z.infer<typeof GranularitySchema>;

/** The additive measures; every ratio is derived from their sums. */
export const MEASURES = ["impressions", "clicks", "conversions", "cost", "revenue"] as const;
export const RATIOS = ["ctr", "roas", "cpa", "cpc", "cpm", "cvr"] as const;
/**
 * Every metric a question may ask about: the additive measures, then the ratios.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { METRIC_NAMES } from "@campaign-analytics/core";
 *
 * assert.deepEqual(METRIC_NAMES.slice(0, 2), ["impressions", "clicks"]);
 * ```
 */
export const METRIC_NAMES = [...MEASURES, ...RATIOS] as const;
export const MetricNameSchema = z.enum(METRIC_NAMES);
/** One of {@linkcode METRIC_NAMES}. */
export type MetricName =
  | "impressions"
  | "clicks"
  | "conversions"
  | "cost"
  | "revenue"
  | "ctr"
  | "roas"
  | "cpa"
  | "cpc"
  | "cpm"
  | "cvr";
