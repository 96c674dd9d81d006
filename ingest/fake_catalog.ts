/**
 * The fake advertiser's catalog: accounts and campaigns on the four platforms, with
 * launch dates, lifecycles, performance profiles and realistic, unique names. A function
 * of (seed, campaign count, tenant, the UTC day of `now`) only. Pure: no Deno APIs, no I/O.
 */
import { calendarDateIn, shiftDate, startOfDayIn } from "../lib/dates.ts";
import { type Platform, PLATFORMS } from "../lib/schema.ts";
import { mulberry32 } from "../lib/random.ts";
import {
  between,
  centsToDecimal,
  combine,
  DAILY_BUDGET_LADDERS,
  type FakeConfigInput,
  FakeConfigSchema,
  HOUR_MS,
  mapPlatforms,
  modulo,
  pick,
  PLATFORM_RANGES,
  PROFILE_MARGIN,
  type Random,
  type Range,
  seedKeyOf,
  shuffled,
  STREAM,
} from "./fake_model.ts";

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
