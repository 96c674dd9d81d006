/**
 * The shared vocabulary of the system: every source produces `MetricRow`s, every
 * query is described with these types. Types are inferred from the zod schemas so
 * that validation and typing can never drift apart.
 */
import { z } from "zod";
import { isCalendarDate } from "./dates.ts";
import { numberToDecimalText } from "./decimal.ts";

export const PLATFORMS = ["meta", "google", "linkedin", "tiktok"] as const;
export const PlatformSchema = z.enum(PLATFORMS);
export type Platform = z.infer<typeof PlatformSchema>;

/** Names people use for the platforms, lower-cased; the canonical ids map to themselves. */
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

/** Resolves a platform name or alias, case-insensitively; undefined when unknown. */
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

export const IdSchema = z.string().trim().min(1).max(128);
export const TenantIdSchema = z.string().trim().min(1).max(64).regex(
  /^[A-Za-z0-9._-]+$/,
  "letters, digits, dot, dash and underscore only",
);

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** An instant: a Date, or an RFC 3339 string with an offset on a real calendar date. */
export const InstantSchema = z.union([z.date(), z.string()]).transform((value, ctx) => {
  const date =
    typeof value === "string" && RFC3339.test(value) && isCalendarDate(value.slice(0, 10))
      ? new Date(value)
      : value;
  if (date instanceof Date && !Number.isNaN(date.getTime())) return date;
  ctx.addIssue({ code: "custom", message: "expected an RFC 3339 instant with an offset" });
  return z.NEVER;
});

/** The unified record every source produces: one campaign, one time bucket. */
export const MetricRowSchema = z.object({
  tenant_id: TenantIdSchema.default("default"),
  platform: z.string().transform((name, ctx) => {
    const platform = platformFromAlias(name);
    if (platform) return platform;
    ctx.addIssue({ code: "custom", message: `unknown platform "${name}"` });
    return z.NEVER;
  }),
  account_id: IdSchema,
  campaign_id: IdSchema,
  campaign_name: z.string().trim().max(512).optional(),
  campaign_status: z.string().trim().max(64).optional(),
  ts: InstantSchema,
  impressions: CountSchema,
  clicks: CountSchema,
  conversions: DecimalSchema,
  cost: DecimalSchema,
  revenue: DecimalSchema,
  currency: CurrencySchema,
  source: z.string().trim().min(1).max(64).default("api"),
});
export type MetricRowInput = z.input<typeof MetricRowSchema>;
export type MetricRow = z.output<typeof MetricRowSchema>;

/** What a batch write reports back: rows stored and rows refused with a reason each. */
export const RowRejectionSchema = z.object({
  index: z.number().int().nonnegative(),
  field: z.string(),
  error: z.string(),
});
export type RowRejection = z.infer<typeof RowRejectionSchema>;

/** Validates raw rows one by one; bad rows are reported, never thrown away silently. */
export function validateRows(
  raw: readonly unknown[],
  defaults: { tenant_id?: string; source?: string } = {},
): { rows: MetricRow[]; rejected: RowRejection[] } {
  const rows: MetricRow[] = [];
  const rejected: RowRejection[] = [];
  raw.forEach((item, index) => {
    const withDefaults = isRecord(item) ? { ...defaults, ...item } : item;
    const parsed = MetricRowSchema.safeParse(withDefaults);
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
export const METRIC_NAMES = [...MEASURES, ...RATIOS] as const;
export const MetricNameSchema = z.enum(METRIC_NAMES);
export type MetricName = z.infer<typeof MetricNameSchema>;
