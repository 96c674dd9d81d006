/**
 * The fake data source: a deterministic advertiser with campaigns on the four
 * platforms, producing hourly rows that look like real reports (plausible CTR, CPC,
 * CVR and ROAS per platform, a night trough, weekend effects, noise) so that the whole
 * system can be run, demonstrated and benchmarked without any ad platform.
 *
 * Determinism: the catalog is a function of (seed, campaign count, tenant, the UTC day
 * of `now`); the full-hour values of (campaign, hour) are a function of (seed,
 * campaign, hour) only, drawn from a hash-seeded PRNG, never from Math.random. The
 * hour that contains `now` is the full-hour row scaled by the elapsed fraction of the
 * hour, so repeated reads grow the same row monotonically and upserts stay idempotent.
 *
 * Pure: no Deno APIs and no I/O, so ingest, tests and the benchmark can all use it.
 */
import { z } from "zod";
import { calendarDateIn, shiftDate, startOfDayIn, zoneOffsetMs } from "../lib/dates.ts";
import { type Platform, PLATFORMS, TenantIdSchema } from "../lib/schema.ts";
import type { CampaignMetadata } from "../lib/store/metrics_store.ts";
import {
  type AccountInfo,
  type Source,
  type SourceBatch,
  SourceError,
  type SyncWindow,
  SyncWindowSchema,
} from "./source.ts";
import { mix32, mulberry32 } from "../lib/random.ts";

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
export type FakeConfig = z.output<typeof FakeConfigSchema>;
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
const HOUR_SHARES: Readonly<Record<Platform, readonly number[]>> = mapPlatforms((platform) => {
  const curve = HOUR_CURVES[platform];
  const total = curve.reduce((sum, weight) => sum + weight, 0);
  return curve.map((weight) => weight / total);
});

/**
 * Delivery by local weekday, Sunday first. Consumer platforms lift on weekends,
 * search dips slightly, LinkedIn nearly halves: people scroll on Saturdays, they
 * don't read B2B ads.
 */
// deno-fmt-ignore
const WEEKDAY_FACTORS: Readonly<Record<Platform, readonly number[]>> = {
  meta:     [1.1, 0.95, 1.0, 1.0, 1.0, 1.0, 1.1],
  google:   [0.9, 1.05, 1.05, 1.05, 1.05, 1.0, 0.85],
  linkedin: [0.45, 1.15, 1.2, 1.2, 1.15, 1.0, 0.4],
  tiktok:   [1.15, 0.95, 0.95, 0.95, 1.0, 1.05, 1.15],
};

/** How much rates wander hour to hour (± fraction, uniform, mean 1). */
const HOURLY_NOISE = { spend: 0.25, ctr: 0.1, cpc: 0.15, cvr: 0.2, orderValue: 0.2 } as const;
/** Day-to-day swing of delivery (auction pressure, creative fatigue). */
const DAILY_NOISE = 0.15;
/** Campaign baselines stay this far (as a fraction of the range) from the range's edges. */
const PROFILE_MARGIN = 0.15;

function mapPlatforms<T>(build: (platform: Platform) => T): Record<Platform, T> {
  return Object.fromEntries(PLATFORMS.map((platform) => [platform, build(platform)])) as Record<
    Platform,
    T
  >;
}

const HOUR_MS = 3_600_000;
const DAY_HOURS = 24;

// ---------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------

/** Folds one more integer into a hash. */
function combine(hash: number, value: number): number {
  return mix32(((hash ^ value) + 0x9e3779b9) | 0);
}

/** The seed as a hash, using both 32-bit halves of a safe integer. */
function seedKeyOf(seed: number): number {
  const high = Math.floor(seed / 0x1_0000_0000);
  return combine(combine(0x2545f491, seed >>> 0), high >>> 0);
}

/** Separate streams so that, e.g., adding a catalog draw never shifts hourly values. */
const STREAM = { catalog: 1, campaign: 2, hour: 3, day: 4 } as const;

type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function between(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}

/** Multiplicative noise with mean 1: uniform in [1 − spread, 1 + spread]. */
function jitter(u: number, spread: number): number {
  return 1 + spread * (2 * u - 1);
}

/** Rounds up with probability equal to the fraction, so small counts stay unbiased. */
function stochasticRound(value: number, u: number): number {
  const floor = Math.floor(value);
  return floor + (u < value - floor ? 1 : 0);
}

function clamp(value: number, range: Range): number {
  return Math.min(range.max, Math.max(range.min, value));
}

function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

// ---------------------------------------------------------------------------------
// Catalog: accounts and campaigns
// ---------------------------------------------------------------------------------

export type FakeCampaignStatus = "ACTIVE" | "PAUSED" | "ENDED";

export interface FakeAccount {
  readonly platform: Platform;
  readonly account_id: string;
  readonly name: string;
  readonly currency: string;
  readonly time_zone: string;
}

/** The hidden baseline a campaign's hourly values wander around. */
export interface FakeCampaignProfile {
  readonly dailyBudgetCents: number;
  /** Average share of the budget actually spent. */
  readonly pacing: number;
  readonly ctr: number;
  /** In the account currency's major unit. */
  readonly cpc: number;
  readonly cvr: number;
  readonly roas: number;
  /** Revenue per conversion in cents, chosen so that revenue / cost ≈ roas. */
  readonly orderValueCents: number;
}

export interface FakeCampaign {
  /** 1-based position: cmp-<index>. */
  readonly index: number;
  readonly tenant_id: string;
  readonly platform: Platform;
  readonly account_id: string;
  readonly campaign_id: string;
  readonly name: string;
  readonly status: FakeCampaignStatus;
  readonly currency: string;
  readonly time_zone: string;
  /** Launch day in the account's zone, and the instant it starts (local midnight). */
  readonly launch_date: string;
  readonly started_at: Date;
  /** Last day an ENDED campaign ran, in the account's zone; null otherwise. */
  readonly end_date: string | null;
  /** Delivery stops here (exclusive): the end of an ENDED campaign, the pause of a PAUSED one. */
  readonly stopped_at: Date | null;
  /** Daily budget as an exact decimal string in the account currency. */
  readonly daily_budget: string;
  readonly profile: FakeCampaignProfile;
}

export interface FakeCatalog {
  readonly seed: number;
  readonly tenantId: string;
  /** The instant the catalog was built for; launch dates are relative to its UTC day. */
  readonly now: Date;
  readonly accounts: readonly FakeAccount[];
  readonly campaigns: readonly FakeCampaign[];
}

export interface FakeCatalogOptions extends FakeConfigInput {
  now: Date;
}

/** Launches spread over this many days before `now`'s UTC day. */
export const LAUNCH_SPREAD_DAYS = 120;

const ACCOUNT_TEMPLATES: Readonly<
  Record<Platform, readonly Omit<FakeAccount, "platform" | "account_id">[]>
> = {
  meta: [
    { name: "Northwind Store – US", currency: "USD", time_zone: "America/New_York" },
    { name: "Northwind Store – EU", currency: "EUR", time_zone: "Europe/Berlin" },
    { name: "Northwind Apps", currency: "USD", time_zone: "America/Los_Angeles" },
  ],
  google: [
    { name: "Northwind Search – US", currency: "USD", time_zone: "America/New_York" },
    { name: "Northwind Search – UK", currency: "GBP", time_zone: "Europe/London" },
    { name: "Northwind Shopping", currency: "USD", time_zone: "America/Chicago" },
  ],
  linkedin: [
    { name: "Northwind B2B", currency: "USD", time_zone: "America/New_York" },
    { name: "Northwind Talent", currency: "USD", time_zone: "America/Los_Angeles" },
  ],
  tiktok: [
    { name: "Northwind Creators", currency: "USD", time_zone: "America/Los_Angeles" },
    { name: "Northwind TikTok Shop", currency: "USD", time_zone: "America/New_York" },
  ],
};

/**
 * Account id shapes: Meta ad accounts are 15–16 digits (stored without `act_`),
 * Google customer ids 10 digits (123-456-7890 without dashes), LinkedIn sponsored
 * accounts 9 digits (5xxxxxxxx), TikTok advertiser ids 19 digits (7xxx…).
 */
const ACCOUNT_ID_SHAPES: Readonly<Record<Platform, { prefix: string; digits: number }>> = {
  meta: { prefix: "", digits: 15 },
  google: { prefix: "", digits: 10 },
  linkedin: { prefix: "5", digits: 9 },
  tiktok: { prefix: "7", digits: 19 },
};

/** Platform mix of a typical advertiser, beyond the first four (one per platform). */
const PLATFORM_WEIGHTS: Readonly<Record<Platform, number>> = {
  meta: 0.35,
  google: 0.3,
  linkedin: 0.15,
  tiktok: 0.2,
};

export function createFakeCatalog(options: FakeCatalogOptions): FakeCatalog {
  const config = FakeConfigSchema.parse(options);
  const now = new Date(options.now.getTime());
  const seedKey = seedKeyOf(config.seed);
  const random = mulberry32(combine(seedKey, STREAM.catalog));
  const accounts = buildAccounts(random);
  const platforms = assignPlatforms(random, config.campaigns);
  const endedIndex = pickEndedIndex(random, config.campaigns);
  const today = calendarDateIn(now, "UTC");
  const names = new Set<string>();
  const perPlatformCount = mapPlatforms(() => 0);
  const campaigns = platforms.map((platform, position) => {
    const accountsOfPlatform = accounts.filter((account) => account.platform === platform);
    // Round-robin within the platform so that every account (EUR, GBP) gets campaigns.
    const account = accountsOfPlatform[perPlatformCount[platform]++ % accountsOfPlatform.length];
    return buildCampaign({
      index: position + 1,
      count: config.campaigns,
      tenantId: config.tenantId,
      account,
      today,
      ended: position + 1 === endedIndex,
      random: mulberry32(combine(combine(seedKey, STREAM.campaign), position + 1)),
      names,
    });
  });
  return { seed: config.seed, tenantId: config.tenantId, now, accounts, campaigns };
}

function buildAccounts(random: Random): FakeAccount[] {
  const taken = new Set<string>();
  return PLATFORMS.flatMap((platform) =>
    ACCOUNT_TEMPLATES[platform].map((template) => {
      let accountId = accountIdFor(random, platform);
      while (taken.has(accountId)) accountId = accountIdFor(random, platform);
      taken.add(accountId);
      return { platform, account_id: accountId, ...template };
    })
  );
}

function accountIdFor(random: Random, platform: Platform): string {
  const { prefix, digits } = ACCOUNT_ID_SHAPES[platform];
  let id = prefix || String(1 + Math.floor(random() * 9));
  while (id.length < digits) id += String(Math.floor(random() * 10));
  return id;
}

/** The first four campaigns cover the four platforms; the rest follow the weights. */
function assignPlatforms(random: Random, count: number): Platform[] {
  const firstFour = shuffled(random, PLATFORMS);
  const platforms: Platform[] = [];
  for (let i = 0; i < count; i++) {
    platforms.push(i < firstFour.length ? firstFour[i] : weightedPlatform(random()));
  }
  return platforms;
}

function weightedPlatform(u: number): Platform {
  let cumulative = 0;
  for (const platform of PLATFORMS) {
    cumulative += PLATFORM_WEIGHTS[platform];
    if (u < cumulative) return platform;
  }
  return PLATFORMS[PLATFORMS.length - 1];
}

/** Exactly one ENDED campaign, among the oldest third (old enough to have run and stopped). */
function pickEndedIndex(random: Random, count: number): number | null {
  if (count < 3) return null;
  return 1 + Math.floor(random() * Math.floor(count / 3));
}

interface CampaignSeed {
  index: number;
  count: number;
  tenantId: string;
  account: FakeAccount;
  today: string;
  ended: boolean;
  random: Random;
  names: Set<string>;
}

function buildCampaign(seed: CampaignSeed): FakeCampaign {
  const { account, random } = seed;
  const launchDaysAgo = launchDaysAgoFor(seed.index, seed.count, random());
  const launchDate = shiftDate(seed.today, -launchDaysAgo);
  const lifecycle = lifecycleFor(seed, launchDate, launchDaysAgo);
  const profile = profileFor(account.platform, random);
  return {
    index: seed.index,
    tenant_id: seed.tenantId,
    platform: account.platform,
    account_id: account.account_id,
    campaign_id: `cmp-${seed.index}`,
    name: uniqueName(seed, launchDate),
    status: lifecycle.status,
    currency: account.currency,
    time_zone: account.time_zone,
    launch_date: launchDate,
    started_at: startOfDayIn(launchDate, account.time_zone),
    end_date: lifecycle.endDate,
    stopped_at: lifecycle.stoppedAt,
    daily_budget: centsToDecimal(profile.dailyBudgetCents),
    profile,
  };
}

/**
 * Campaign numbers follow creation order, like real ids: cmp-1 launched about 120 days
 * ago, the last ones in the past few days (so "latest campaign" is meaningful). Never
 * today: a launch is always before `now`, whatever the account's zone.
 */
function launchDaysAgoFor(index: number, count: number, u: number): number {
  const position = count === 1 ? 1 : (index - 1) / (count - 1);
  const base = 1 + (LAUNCH_SPREAD_DAYS - 1) * (1 - position);
  const days = Math.round(base + (2 * u - 1) * 4);
  return Math.min(LAUNCH_SPREAD_DAYS, Math.max(1, days));
}

interface Lifecycle {
  status: FakeCampaignStatus;
  endDate: string | null;
  stoppedAt: Date | null;
}

/** Status, end date and pause instant; draws a fixed number of values either way. */
function lifecycleFor(seed: CampaignSeed, launchDate: string, launchDaysAgo: number): Lifecycle {
  const [uPaused, uWhen, uHour] = [seed.random(), seed.random(), seed.random()];
  const zone = seed.account.time_zone;
  if (seed.ended && launchDaysAgo >= 10) {
    // Ran 3–6 weeks, and ended at least a day before today.
    const lastDay = Math.min(launchDaysAgo - 2, 20 + Math.floor(uWhen * 22));
    const endDate = shiftDate(launchDate, lastDay);
    return { status: "ENDED", endDate, stoppedAt: startOfDayIn(shiftDate(endDate, 1), zone) };
  }
  if (uPaused < 0.12 && launchDaysAgo >= 6) {
    // Paused some days after launch, during local office hours.
    const pausedDate = shiftDate(launchDate, 3 + Math.floor(uWhen * (launchDaysAgo - 4)));
    const pausedHour = 9 + Math.floor(uHour * 9);
    const stoppedAt = new Date(startOfDayIn(pausedDate, zone).getTime() + pausedHour * HOUR_MS);
    return { status: "PAUSED", endDate: null, stoppedAt };
  }
  return { status: "ACTIVE", endDate: null, stoppedAt: null };
}

function profileFor(platform: Platform, random: Random): FakeCampaignProfile {
  const ranges = PLATFORM_RANGES[platform];
  const inner = (range: Range) => {
    const margin = (range.max - range.min) * PROFILE_MARGIN;
    return between(random, range.min + margin, range.max - margin);
  };
  const dailyBudgetCents = pick(random, DAILY_BUDGET_LADDERS[platform]) * 100;
  const pacing = between(random, 0.82, 0.98);
  const ctr = inner(ranges.ctr);
  const cpc = inner(ranges.cpc);
  const cvr = inner(ranges.cvr);
  const roas = inner(ranges.roas);
  const orderValueCents = (roas * cpc * 100) / cvr;
  return { dailyBudgetCents, pacing, ctr, cpc, cvr, roas, orderValueCents };
}

// ---------------------------------------------------------------------------------
// Campaign names
// ---------------------------------------------------------------------------------

/**
 * A theme is plain text, a quarterly one ("Brand Awareness Q2"), or a seasonal one
 * ("Spring Sale 2024") that is only picked in the three months before its season ends.
 */
type Theme = string | { text: string; quarter: true } | { text: string; seasonEndMonth: number };

/** "a | b | c" → ["a", "b", "c"]: keeps the long word lists readable. */
function words(list: string): string[] {
  return list.split("|").map((word) => word.trim());
}

const RETAIL_SEASONS: readonly Theme[] = [
  { text: "Valentine's Day", seasonEndMonth: 2 },
  { text: "Spring Sale", seasonEndMonth: 5 },
  { text: "Mother's Day", seasonEndMonth: 5 },
  { text: "Summer Sale", seasonEndMonth: 8 },
  { text: "Back to School", seasonEndMonth: 9 },
  { text: "Black Friday", seasonEndMonth: 11 },
  { text: "Holiday Gifting", seasonEndMonth: 12 },
  { text: "Brand Awareness", quarter: true },
];

const B2B_SEASONS: readonly Theme[] = [
  { text: "Pipeline", quarter: true },
  { text: "Brand Awareness", quarter: true },
  { text: "Year-End Budget Push", seasonEndMonth: 12 },
  { text: "Annual Summit", seasonEndMonth: 6 },
];

const PLATFORM_THEMES: Readonly<Record<Platform, readonly Theme[]>> = {
  meta: [
    ...RETAIL_SEASONS,
    ...words(
      "Retargeting | Prospecting | Advantage+ Shopping | Dynamic Product Ads | Reels Creative Test" +
        " | Lookalike 1% | Lead Ads | New Arrivals | Catalog Sales | Free Shipping Week",
    ),
  ],
  google: [
    ...RETAIL_SEASONS,
    ...words(
      "Search Brand | Search Non-Brand | Performance Max | Shopping Bestsellers | YouTube Awareness" +
        " | Display Remarketing | Demand Gen | Competitor Terms | Dynamic Search Ads",
    ),
  ],
  linkedin: [
    ...B2B_SEASONS,
    ...words(
      "Lead Gen | ABM Enterprise | Webinar Registrations | Thought Leadership | Employer Brand" +
        " | Whitepaper Download | Product Demo Requests | Conversation Ads | Retargeting",
    ),
  ],
  tiktok: [
    ...RETAIL_SEASONS,
    ...words(
      "Spark Ads | TopView Launch | Creator Collab | Hashtag Challenge | TikTok Shop LIVE" +
        " | UGC Test | Retargeting | App Installs | New Arrivals",
    ),
  ],
};

/** Audiences, markets and match types that follow the theme after an en dash. */
const PLATFORM_VARIANTS: Readonly<Record<Platform, readonly string[]>> = {
  meta: words(
    "Prospecting | Cart Abandoners | Past Purchasers | Broad | Women 25–44 | Men 18–34" +
      " | Interest Stack | Video Viewers 50% | Site Visitors 30d | US | DE",
  ),
  google: words(
    "Exact Match | Phrase Match | Broad Match | Shoes | Accessories | High Intent | US | UK" +
      " | Mobile | Top Sellers",
  ),
  linkedin: words(
    "IT Decision Makers | CFOs | HR Leaders | Enterprise 1000+ | SMB | Website Visitors" +
      " | Matched Audiences | EMEA | North America",
  ),
  tiktok: words(
    "Gen Z | Broad | Shoppers | Video Views | Beauty | Gaming | Engagers 30d | US | UK",
  ),
};

/** The first campaigns carry familiar names (the examples people ask about). */
const SIGNATURE_NAMES: readonly (readonly [Theme, string | null])[] = [
  [{ text: "Spring Sale", seasonEndMonth: 5 }, "Prospecting"],
  ["Retargeting", "Cart Abandoners"],
  [{ text: "Brand Awareness", quarter: true }, null],
];

/** Share of names that get an audience/variant suffix after an en dash. */
const VARIANT_SHARE = 0.75;
/** A seasonal theme is chosen up to this many months before its season ends. */
const SEASON_LEAD_MONTHS = 3;

function uniqueName(seed: CampaignSeed, launchDate: string): string {
  const platform = seed.account.platform;
  const signature = SIGNATURE_NAMES[seed.index - 1];
  const themes = PLATFORM_THEMES[platform].filter((theme) => inSeason(theme, launchDate));
  let name = signature ? composeName(signature[0], signature[1], launchDate) : "";
  for (let attempt = 0; attempt < 40 && (!name || seed.names.has(name)); attempt++) {
    const theme = pick(seed.random, themes);
    const variant = seed.random() < VARIANT_SHARE
      ? pick(seed.random, PLATFORM_VARIANTS[platform])
      : null;
    name = composeName(theme, variant, launchDate);
  }
  // Past the combinations: number the repeats, as people do ("… v2").
  const base = name;
  for (let version = 2; seed.names.has(name); version++) name = `${base} v${version}`;
  seed.names.add(name);
  return name;
}

function inSeason(theme: Theme, launchDate: string): boolean {
  if (typeof theme === "string" || "quarter" in theme) return true;
  const month = Number(launchDate.slice(5, 7));
  return modulo(theme.seasonEndMonth - month, 12) <= SEASON_LEAD_MONTHS;
}

function composeName(theme: Theme, variant: string | null, launchDate: string): string {
  const text = themeText(theme, launchDate);
  return variant ? `${text} – ${variant}` : text;
}

function themeText(theme: Theme, launchDate: string): string {
  if (typeof theme === "string") return theme;
  const [year, month] = launchDate.split("-").map(Number);
  if ("quarter" in theme) return `${theme.text} Q${Math.floor((month - 1) / 3) + 1}`;
  // A seasonal campaign launched after its season is for next year's.
  return `${theme.text} ${month > theme.seasonEndMonth ? year + 1 : year}`;
}

// ---------------------------------------------------------------------------------
// Hourly rows
// ---------------------------------------------------------------------------------

/** The unified row the fake produces; valid under MetricRowSchema. */
export interface FakeRow {
  tenant_id: string;
  platform: Platform;
  account_id: string;
  campaign_id: string;
  campaign_name: string;
  campaign_status: FakeCampaignStatus;
  /** Start of the hour (UTC). */
  ts: Date;
  impressions: number;
  clicks: number;
  /** Whole conversions as a decimal string. */
  conversions: string;
  cost: string;
  revenue: string;
  currency: string;
  source: "fake";
}

/** Integer counts and cents of one campaign-hour. */
interface HourValues {
  impressions: number;
  clicks: number;
  conversions: number;
  costCents: number;
  revenueCents: number;
}

export interface FakeRowsOptions {
  /** Hours starting at or after this instant… */
  from: Date;
  /** …and before this one. */
  to: Date;
  /** Hours not begun by now are absent; the current one is partial. Default: catalog.now. */
  now?: Date;
  /** Only this account's campaigns. */
  accountId?: string;
}

/**
 * Hourly rows of every campaign for each hour in [from, to) that has begun by `now`,
 * absent before a campaign's launch and after its end or pause. Grouped by campaign,
 * in time order.
 */
export function fakeRows(catalog: FakeCatalog, options: FakeRowsOptions): FakeRow[] {
  const nowMs = (options.now ?? catalog.now).getTime();
  const firstHour = Math.ceil(options.from.getTime() / HOUR_MS);
  const endHour = Math.min(Math.ceil(options.to.getTime() / HOUR_MS), Math.ceil(nowMs / HOUR_MS));
  const seedKey = seedKeyOf(catalog.seed);
  const offsets = new ZoneOffsets();
  const rows: FakeRow[] = [];
  for (const campaign of catalog.campaigns) {
    if (options.accountId !== undefined && campaign.account_id !== options.accountId) continue;
    const [start, end] = deliveryHours(campaign, firstHour, endHour);
    for (let hour = start; hour < end; hour++) {
      const full = fullHourValues(
        seedKey,
        campaign,
        hour,
        offsets.hoursAt(campaign.time_zone, hour),
      );
      const elapsedMs = Math.min(HOUR_MS, nowMs - hour * HOUR_MS);
      rows.push(toRow(campaign, hour, scaleValues(full, elapsedMs)));
    }
  }
  return rows;
}

/** The campaign's hour indexes within [firstHour, endHour): launched and not stopped. */
function deliveryHours(campaign: FakeCampaign, firstHour: number, endHour: number) {
  const launchHour = Math.ceil(campaign.started_at.getTime() / HOUR_MS);
  const stopHour = campaign.stopped_at
    ? Math.ceil(campaign.stopped_at.getTime() / HOUR_MS)
    : Infinity;
  return [Math.max(firstHour, launchHour), Math.min(endHour, stopHour)] as const;
}

/**
 * The complete hour's values of (campaign, hour): a function of the seed, the campaign
 * and the hour only. Draws a fixed number of values so no branch shifts the sequence.
 */
function fullHourValues(
  seedKey: number,
  campaign: FakeCampaign,
  hour: number,
  offsetHours: number,
): HourValues {
  const random = mulberry32(combine(combine(combine(seedKey, STREAM.hour), campaign.index), hour));
  const [uSpend, uCtr, uCpc, uCvr, uValue, rSpend, rImpressions, rClicks, rConversions] = [
    random(),
    random(),
    random(),
    random(),
    random(),
    random(),
    random(),
    random(),
    random(),
  ];
  const { platform, profile } = campaign;
  const ranges = PLATFORM_RANGES[platform];
  const localHour = hour + offsetHours;
  const localDay = Math.floor(localHour / DAY_HOURS);
  const expectedCents = profile.dailyBudgetCents * profile.pacing *
    HOUR_SHARES[platform][modulo(localHour, DAY_HOURS)] *
    WEEKDAY_FACTORS[platform][weekdayOfDay(localDay)] *
    dayFactor(seedKey, campaign.index, localDay) * jitter(uSpend, HOURLY_NOISE.spend);
  const costCents = stochasticRound(expectedCents, rSpend);
  const ctr = clamp(profile.ctr * jitter(uCtr, HOURLY_NOISE.ctr), ranges.ctr);
  const cpcCents = 100 * clamp(profile.cpc * jitter(uCpc, HOURLY_NOISE.cpc), ranges.cpc);
  const cvr = clamp(profile.cvr * jitter(uCvr, HOURLY_NOISE.cvr), ranges.cvr);
  const expectedClicks = costCents / cpcCents;
  const impressions = stochasticRound(expectedClicks / ctr, rImpressions);
  const clicks = Math.min(impressions, stochasticRound(expectedClicks, rClicks));
  const conversions = Math.min(clicks, stochasticRound(clicks * cvr, rConversions));
  const revenueCents = Math.round(
    conversions * profile.orderValueCents * jitter(uValue, HOURLY_NOISE.orderValue),
  );
  return { impressions, clicks, conversions, costCents, revenueCents };
}

/** Delivery swing of a whole local day, shared by its hours. */
function dayFactor(seedKey: number, campaignIndex: number, localDay: number): number {
  const hash = combine(combine(combine(seedKey, STREAM.day), campaignIndex), localDay);
  return jitter(hash / 0x1_0000_0000, DAILY_NOISE);
}

/** 0 = Sunday; day 0 of the epoch (1970-01-01) was a Thursday. */
function weekdayOfDay(day: number): number {
  return modulo(day + 4, 7);
}

function modulo(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

/**
 * The part of the hour elapsed by `now`, rounded down to whole counts and cents: the
 * same full-hour values times a growing fraction, so the row only ever grows and
 * equals the full hour at its end. Integer arithmetic (values × ms stay far below 2^53).
 * Revenue follows the conversions counted so far (no revenue without a conversion).
 */
function scaleValues(full: HourValues, elapsedMs: number): HourValues {
  if (elapsedMs >= HOUR_MS) return full;
  const scale = (value: number) => Math.floor((value * elapsedMs) / HOUR_MS);
  const conversions = scale(full.conversions);
  return {
    impressions: scale(full.impressions),
    clicks: scale(full.clicks),
    conversions,
    costCents: scale(full.costCents),
    revenueCents: conversions === 0
      ? 0
      : Math.floor((full.revenueCents * conversions) / full.conversions),
  };
}

function toRow(campaign: FakeCampaign, hour: number, values: HourValues): FakeRow {
  return {
    tenant_id: campaign.tenant_id,
    platform: campaign.platform,
    account_id: campaign.account_id,
    campaign_id: campaign.campaign_id,
    campaign_name: campaign.name,
    campaign_status: campaign.status,
    ts: new Date(hour * HOUR_MS),
    impressions: values.impressions,
    clicks: values.clicks,
    conversions: String(values.conversions),
    cost: centsToDecimal(values.costCents),
    revenue: centsToDecimal(values.revenueCents),
    currency: campaign.currency,
    source: "fake",
  };
}

/**
 * Non-negative integer cents as an exact two-decimal string: 12345 → "123.45". Every
 * fake account uses a two-decimal currency (USD, EUR, GBP), so cents are the minor unit.
 */
function centsToDecimal(cents: number): string {
  const remainder = cents % 100;
  return `${(cents - remainder) / 100}.${remainder < 10 ? "0" : ""}${remainder}`;
}

/**
 * UTC offsets in whole hours per zone, looked up once per UTC day (Intl is slow for
 * 100k rows) and per hour only on days where the offset changes (DST).
 */
class ZoneOffsets {
  readonly #zones = new Map<string, Map<number, number | number[]>>();

  hoursAt(zone: string, hour: number): number {
    let days = this.#zones.get(zone);
    if (!days) this.#zones.set(zone, days = new Map());
    const day = Math.floor(hour / DAY_HOURS);
    let offsets = days.get(day);
    if (offsets === undefined) days.set(day, offsets = offsetsOfDay(zone, day));
    return typeof offsets === "number" ? offsets : offsets[hour - day * DAY_HOURS];
  }
}

function offsetsOfDay(zone: string, day: number): number | number[] {
  const offsetAt = (hour: number) =>
    Math.floor(zoneOffsetMs(new Date(hour * HOUR_MS), zone) / HOUR_MS);
  const first = offsetAt(day * DAY_HOURS);
  const last = offsetAt(day * DAY_HOURS + DAY_HOURS - 1);
  if (first === last) return first;
  return Array.from({ length: DAY_HOURS }, (_, i) => offsetAt(day * DAY_HOURS + i));
}

// ---------------------------------------------------------------------------------
// Windows and the Source
// ---------------------------------------------------------------------------------

/** The `days` calendar days (UTC) ending with `now`'s day, inclusive. */
export function backfillWindow(now: Date, days = 90): SyncWindow {
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`days must be ≥ 1, got ${days}`);
  const to = calendarDateIn(now, "UTC");
  return { from: shiftDate(to, -(days - 1)), to };
}

/**
 * The instants a window of calendar days covers. The Source contract says the days
 * are the account's; a caller counting in UTC is covered too (the union of both),
 * since hourly rows are upserts and a few extra edge hours do no harm.
 */
export function windowInstants(window: SyncWindow, timeZone: string): { from: Date; to: Date } {
  const dayAfter = shiftDate(window.to, 1);
  const from = Math.min(
    startOfDayIn(window.from, timeZone).getTime(),
    startOfDayIn(window.from).getTime(),
  );
  const to = Math.max(startOfDayIn(dayAfter, timeZone).getTime(), startOfDayIn(dayAfter).getTime());
  return { from: new Date(from), to: new Date(to) };
}

export interface FakeSourceOptions extends FakeConfigInput {
  /** The clock; the catalog is built once from its first reading. Default: the real clock. */
  now?: () => Date;
}

export interface FakeSource extends Source {
  readonly catalog: FakeCatalog;
}

/** The fake streamer as a Source: each fetch replays the deterministic data up to now. */
export function createFakeSource(options: FakeSourceOptions = {}): FakeSource {
  const clock = options.now ?? (() => new Date());
  const catalog = createFakeCatalog({ ...options, now: clock() });
  return {
    name: "fake",
    tenantId: catalog.tenantId,
    catalog,
    accounts: () => catalog.accounts.map((account) => account.account_id),
    // A promise executor turns the synchronous throws into rejections.
    fetch: (accountId, window, signal) =>
      new Promise((resolve) => {
        signal?.throwIfAborted();
        resolve(fetchBatch(catalog, accountId, window, clock()));
      }),
  };
}

function fetchBatch(
  catalog: FakeCatalog,
  accountId: string,
  window: SyncWindow,
  now: Date,
): SourceBatch {
  const account = catalog.accounts.find((candidate) => candidate.account_id === accountId);
  if (!account) throw new SourceError("fake", `unknown account ${accountId}`, "permanent");
  const parsedWindow = SyncWindowSchema.safeParse(window);
  if (!parsedWindow.success) {
    throw new SourceError("fake", `malformed window ${JSON.stringify(window)}`, "permanent");
  }
  const range = windowInstants(parsedWindow.data, account.time_zone);
  return {
    account: accountInfo(account),
    rows: fakeRows(catalog, { ...range, now, accountId }),
    campaigns: campaignMetadata(catalog, accountId),
  };
}

function accountInfo(account: FakeAccount): AccountInfo {
  return {
    account_id: account.account_id,
    currency: account.currency,
    time_zone: account.time_zone,
    name: account.name,
  };
}

/** Names, statuses and launch instants of the catalog's campaigns (optionally one account's). */
export function campaignMetadata(catalog: FakeCatalog, accountId?: string): CampaignMetadata[] {
  return catalog.campaigns
    .filter((campaign) => accountId === undefined || campaign.account_id === accountId)
    .map((campaign) => ({
      tenant_id: campaign.tenant_id,
      platform: campaign.platform,
      account_id: campaign.account_id,
      campaign_id: campaign.campaign_id,
      name: campaign.name,
      status: campaign.status,
      started_at: campaign.started_at,
    }));
}
