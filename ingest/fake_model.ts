/**
 * The fake data's model: its settings, each platform's plausible ranges (CTR, CPC, CVR,
 * order value, budgets, hour and weekday curves) and the seeded randomness every draw comes
 * from (hash-seeded streams, never Math.random). Pure: no Deno APIs and no I/O.
 */
import { z } from "zod";
import { type Platform, PLATFORMS, TenantIdSchema } from "../lib/schema.ts";
import { mix32 } from "../lib/random.ts";

// ---------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------

export const DEFAULT_FAKE_SEED = 42;
export const DEFAULT_FAKE_CAMPAIGNS = 50;
/** Upper bound: a 90-day backfill of 1,000 campaigns is already ~2M rows. */
export const MAX_FAKE_CAMPAIGNS = 1_000;

/** An integer given as a number or as the text of an environment variable. */
function integerSetting(min: number, max: number, expected: string) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const text = String(value).trim();
    const number = /^-?\d+$/.test(text) ? Number(text) : NaN;
    if (Number.isSafeInteger(number) && number >= min && number <= max) return number;
    ctx.addIssue({ code: "custom", message: `expected ${expected}` });
    return z.NEVER;
  });
}

export const FakeConfigSchema = z.object({
  seed: integerSetting(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, "an integer").default(
    DEFAULT_FAKE_SEED,
  ),
  campaigns: integerSetting(1, MAX_FAKE_CAMPAIGNS, `an integer from 1 to ${MAX_FAKE_CAMPAIGNS}`)
    .default(DEFAULT_FAKE_CAMPAIGNS),
  tenantId: TenantIdSchema.default("default"),
});
export type FakeConfigInput = z.input<typeof FakeConfigSchema>;

// ---------------------------------------------------------------------------------
// Per-platform realism
// ---------------------------------------------------------------------------------

export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface PlatformRanges {
  /** clicks / impressions */
  readonly ctr: Range;
  /** cost / clicks, in the account currency's major unit */
  readonly cpc: Range;
  /** conversions / clicks */
  readonly cvr: Range;
  /** revenue / cost */
  readonly roas: Range;
}

/**
 * Assumption: ballpark 2023–24 industry benchmarks (WordStream/LocaliQ-style averages
 * for e-commerce and B2B), a blend of campaign types per platform. Google mixes search
 * (high CTR, pricey clicks) with Performance Max; LinkedIn is B2B lead generation
 * (expensive clicks, lead value as revenue); TikTok is cheap reach with weaker
 * conversion. The same numbers are used for USD, EUR and GBP accounts (close enough
 * for fake data). Hourly rates are clamped to these ranges, so every aggregate ratio
 * of sums falls inside them too. Implied CPMs: Meta ~$12, Google ~$90 (search-heavy),
 * LinkedIn ~$40, TikTok ~$9.
 */
export const PLATFORM_RANGES: Readonly<Record<Platform, PlatformRanges>> = {
  meta: {
    ctr: { min: 0.009, max: 0.016 },
    cpc: { min: 0.6, max: 1.6 },
    cvr: { min: 0.02, max: 0.06 },
    roas: { min: 1.5, max: 4.5 },
  },
  google: {
    ctr: { min: 0.02, max: 0.06 },
    cpc: { min: 1.0, max: 4.0 },
    cvr: { min: 0.03, max: 0.08 },
    roas: { min: 2.0, max: 6.0 },
  },
  linkedin: {
    ctr: { min: 0.004, max: 0.008 },
    cpc: { min: 4.0, max: 9.0 },
    cvr: { min: 0.02, max: 0.08 },
    roas: { min: 1.0, max: 3.0 },
  },
  tiktok: {
    ctr: { min: 0.008, max: 0.015 },
    cpc: { min: 0.4, max: 1.2 },
    cvr: { min: 0.01, max: 0.04 },
    roas: { min: 1.0, max: 3.5 },
  },
};

/** Daily budget ladders in major currency units: advertisers pick round numbers. */
export const DAILY_BUDGET_LADDERS: Readonly<Record<Platform, readonly number[]>> = {
  meta: [50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500],
  google: [100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000],
  linkedin: [100, 150, 200, 250, 300, 400, 500, 750],
  tiktok: [50, 100, 150, 200, 300, 500, 750, 1000],
};

/**
 * Relative delivery by local hour (0–23). Everyone has a night trough around 3–4 am;
 * Meta and TikTok peak in the evening (TikTok later and with a livelier night), Google
 * search follows the working day with an evening shoulder, LinkedIn is office hours.
 */
const HOUR_CURVES: Readonly<Record<Platform, readonly number[]>> = {
  // deno-fmt-ignore
  meta: [0.45, 0.3, 0.2, 0.15, 0.15, 0.2, 0.35, 0.55, 0.7, 0.8, 0.85, 0.9,
    1.0, 0.95, 0.9, 0.9, 0.95, 1.0, 1.1, 1.25, 1.35, 1.3, 1.05, 0.75],
  // deno-fmt-ignore
  google: [0.3, 0.2, 0.15, 0.12, 0.12, 0.18, 0.35, 0.6, 0.85, 1.0, 1.1, 1.15,
    1.15, 1.1, 1.1, 1.05, 1.0, 0.95, 0.9, 0.95, 1.0, 0.9, 0.7, 0.45],
  // deno-fmt-ignore
  linkedin: [0.12, 0.08, 0.06, 0.05, 0.05, 0.08, 0.2, 0.5, 0.9, 1.2, 1.3, 1.3,
    1.2, 1.25, 1.3, 1.25, 1.1, 0.9, 0.65, 0.5, 0.45, 0.4, 0.3, 0.2],
  // deno-fmt-ignore
  tiktok: [0.7, 0.5, 0.35, 0.25, 0.2, 0.2, 0.3, 0.45, 0.55, 0.6, 0.65, 0.75,
    0.9, 0.85, 0.8, 0.85, 0.95, 1.05, 1.2, 1.4, 1.55, 1.6, 1.4, 1.05],
};

/** Share of a day's delivery that falls in each local hour (sums to 1). */
export const HOUR_SHARES: Readonly<Record<Platform, readonly number[]>> = mapPlatforms(
  (platform) => {
    const curve = HOUR_CURVES[platform];
    const total = curve.reduce((sum, weight) => sum + weight, 0);
    return curve.map((weight) => weight / total);
  },
);

/**
 * Delivery by local weekday, Sunday first. Consumer platforms lift on weekends,
 * search dips slightly, LinkedIn nearly halves: people scroll on Saturdays, they
 * don't read B2B ads.
 */
// deno-fmt-ignore
export const WEEKDAY_FACTORS: Readonly<Record<Platform, readonly number[]>> = {
  meta:     [1.1, 0.95, 1.0, 1.0, 1.0, 1.0, 1.1],
  google:   [0.9, 1.05, 1.05, 1.05, 1.05, 1.0, 0.85],
  linkedin: [0.45, 1.15, 1.2, 1.2, 1.15, 1.0, 0.4],
  tiktok:   [1.15, 0.95, 0.95, 0.95, 1.0, 1.05, 1.15],
};

/** How much rates wander hour to hour (± fraction, uniform, mean 1). */
export const HOURLY_NOISE = {
  spend: 0.25,
  ctr: 0.1,
  cpc: 0.15,
  cvr: 0.2,
  orderValue: 0.2,
} as const;
/** Day-to-day swing of delivery (auction pressure, creative fatigue). */
export const DAILY_NOISE = 0.15;
/** Campaign baselines stay this far (as a fraction of the range) from the range's edges. */
export const PROFILE_MARGIN = 0.15;

export function mapPlatforms<T>(build: (platform: Platform) => T): Record<Platform, T> {
  return Object.fromEntries(PLATFORMS.map((platform) => [platform, build(platform)])) as Record<
    Platform,
    T
  >;
}

export const HOUR_MS = 3_600_000;
export const DAY_HOURS = 24;

// ---------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------

/** Folds one more integer into a hash. */
export function combine(hash: number, value: number): number {
  return mix32(((hash ^ value) + 0x9e3779b9) | 0);
}

/** The seed as a hash, using both 32-bit halves of a safe integer. */
export function seedKeyOf(seed: number): number {
  const high = Math.floor(seed / 0x1_0000_0000);
  return combine(combine(0x2545f491, seed >>> 0), high >>> 0);
}

/** Separate streams so that, e.g., adding a catalog draw never shifts hourly values. */
export const STREAM = { catalog: 1, campaign: 2, hour: 3, day: 4 } as const;

export type Random = () => number;

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

export function between(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}

/** Multiplicative noise with mean 1: uniform in [1 − spread, 1 + spread]. */
export function jitter(u: number, spread: number): number {
  return 1 + spread * (2 * u - 1);
}

/** Rounds up with probability equal to the fraction, so small counts stay unbiased. */
export function stochasticRound(value: number, u: number): number {
  const floor = Math.floor(value);
  return floor + (u < value - floor ? 1 : 0);
}

export function clamp(value: number, range: Range): number {
  return Math.min(range.max, Math.max(range.min, value));
}

export function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

export function modulo(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

export function centsToDecimal(cents: number): string {
  const remainder = cents % 100;
  return `${(cents - remainder) / 100}.${remainder < 10 ? "0" : ""}${remainder}`;
}
