/**
 * The fake campaigns' hourly rows: the full-hour values of (campaign, hour) are a function
 * of (seed, campaign, hour) only; the hour that contains `now` is the full-hour row scaled
 * by the elapsed fraction, so repeated reads grow the same row monotonically and upserts
 * stay idempotent. Pure: no Deno APIs and no I/O.
 */
import { zoneOffsetMs } from "../lib/dates.ts";
import type { Platform } from "../lib/schema.ts";
import { mulberry32 } from "../lib/random.ts";
import {
  centsToDecimal,
  clamp,
  combine,
  DAILY_NOISE,
  DAY_HOURS,
  HOUR_MS,
  HOUR_SHARES,
  HOURLY_NOISE,
  jitter,
  modulo,
  PLATFORM_RANGES,
  seedKeyOf,
  stochasticRound,
  STREAM,
  WEEKDAY_FACTORS,
} from "./fake_model.ts";
import type { FakeCampaign, FakeCampaignStatus, FakeCatalog } from "./fake_catalog.ts";

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
