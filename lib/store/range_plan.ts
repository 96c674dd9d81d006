/**
 * The range planner: which table answers which part of a time range. Every read of the
 * store (totals, rankings, per-platform breakdowns, series, the per-day sums of converted
 * answers) asks `planRange` and reads whole rollup units for the inside of the range and
 * raw rows only for the partial units at its edges:
 *
 * - per campaign: whole UTC months from `campaign_monthly`, whole UTC days around them
 *   from `campaign_daily`, the hours at the edges (a range in New York starts and ends
 *   at 04:00 or 05:00 UTC) from the raw rows;
 * - per platform: whole UTC hours from `platform_hourly` (one row per platform-hour is
 *   fewer rows than one per campaign-day), sub-hour edges from the raw rows;
 * - a campaign filter: whole months from `campaign_monthly` (indexed by campaign), the
 *   rest from the raw rows, found by primary key (campaign first): fewer rows than the
 *   daily rollup (day first) would scan to find a few campaigns.
 *
 * Series bucket in the query's zone: a rollup row may only serve a bucket it lies
 * inside, so `planBuckets` plans each bucket on its own (a daily row serves a weekly or
 * monthly bucket of a half-hour zone only when its whole UTC day lies in that bucket).
 *
 * Answers per campaign that are not per day (rankings) read the days of a month as the
 * difference of two month-to-date running totals (`runningTotals`, sql/009): two rows
 * per campaign and month instead of one per day.
 *
 * Bounds are [from, to); an open bound stays open (lifetime questions read rollups only).
 */

import { calendarDateIn, shiftDate, startOfDayIn } from "../dates.ts";

export type Source =
  | "raw"
  | "campaign_monthly"
  | "campaign_daily"
  | "campaign_mtd"
  | "platform_hourly";

export interface RangePart {
  source: Source;
  from?: Date;
  to?: Date;
  /**
   * Raw parts inside one UTC day (the hours at the edges of a range of days): that day.
   * Only the campaigns with a daily row that day can have rows there, so the raw rows
   * are looked up by primary key for those (see partSql): no scan of a time range.
   */
  day?: string;
  /** Series only: the bucket (its first day in the query's zone) that every row of this part is in. */
  bucket?: string;
  /**
   * Parts of a converted read (see planZoneDays): read per series (platform, campaign)
   * for the series the monthly rollup lists over the months the part touches (raw rows
   * by primary key, daily rows by the series index of sql/008), not by a scan of the
   * time range: the money of a few currencies is a few series.
   */
  seriesLookup?: boolean;
  /**
   * Running-total parts (`campaign_mtd`, see runningTotals): each campaign's month-to-date
   * total at `day` (that day included), added (1) or subtracted (-1).
   */
  sign?: 1 | -1;
}

/** What a query groups by, which decides the rollups that can answer it. */
export type RangeGrain = "campaign" | "platform";

export interface RangeShape {
  grain: RangeGrain;
  /** A campaign filter: months from the monthly rollup, the rest raw by primary key. */
  campaignFilter?: boolean;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const floorTo = (unit: number) => (date: Date) =>
  new Date(Math.floor(date.getTime() / unit) * unit);
const ceilTo = (unit: number) => (date: Date) => new Date(Math.ceil(date.getTime() / unit) * unit);
export const floorHour = floorTo(HOUR_MS);
export const ceilHour = ceilTo(HOUR_MS);
export const floorUtcDay = floorTo(DAY_MS);
export const ceilUtcDay = ceilTo(DAY_MS);
export const floorUtcMonth = (date: Date) =>
  new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
export const ceilUtcMonth = (date: Date) => {
  const floor = floorUtcMonth(date);
  return floor.getTime() === date.getTime()
    ? floor
    : new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
};

const before = (a: Date | undefined, b: Date | undefined) =>
  a === undefined || b === undefined || a.getTime() < b.getTime();

/**
 * Splits [from, to) into the aligned middle a rollup of `floor`/`ceil` units answers and
 * the parts outside it, which `outer` splits further (finer units, then raw rows).
 */
function split(
  from: Date | undefined,
  to: Date | undefined,
  source: Exclude<Source, "raw">,
  floor: (date: Date) => Date,
  ceil: (date: Date) => Date,
  outer: (from: Date | undefined, to: Date | undefined) => RangePart[],
): RangePart[] {
  const start = from && ceil(from);
  const end = to && floor(to);
  if (!before(start, end)) return outer(from, to);
  const parts: RangePart[] = [{ source, from: start, to: end }];
  if (from && start && from.getTime() < start.getTime()) parts.push(...outer(from, start));
  if (to && end && end.getTime() < to.getTime()) parts.push(...outer(end, to));
  return parts;
}

const raw = (from: Date | undefined, to: Date | undefined): RangePart[] =>
  before(from, to) ? [{ source: "raw", from, to }] : [];

/** Raw rows within one UTC day, marked with it. */
const rawInDay = (from: Date | undefined, to: Date | undefined): RangePart[] =>
  raw(from, to).map((part) => {
    if (!part.from || !part.to) return part;
    const day = floorUtcDay(part.from);
    if (part.to.getTime() > day.getTime() + DAY_MS) return part;
    return { ...part, day: day.toISOString().slice(0, 10) };
  });

const days = (from: Date | undefined, to: Date | undefined) =>
  split(from, to, "campaign_daily", floorUtcDay, ceilUtcDay, rawInDay);

/** The parts that answer [from, to) for a query of this shape (see the module header). */
export function planRange(
  from: Date | undefined,
  to: Date | undefined,
  shape: RangeShape,
): RangePart[] {
  if (from && to && from.getTime() >= to.getTime()) return [{ source: "raw", from, to }];
  const parts = shape.campaignFilter
    ? split(from, to, "campaign_monthly", floorUtcMonth, ceilUtcMonth, raw)
    : shape.grain === "platform"
    ? split(from, to, "platform_hourly", floorHour, ceilHour, raw)
    : split(from, to, "campaign_monthly", floorUtcMonth, ceilUtcMonth, days);
  return parts.length ? parts : [{ source: "raw", from, to }];
}

/**
 * Campaign totals over the days of `campaign_daily` parts, from month-to-date running
 * totals (sql/009) instead of one row per campaign and day: the days a..b of one month
 * are the running total at b minus the one at a - 1 (nothing to subtract when a is the
 * 1st; the monthly rollup when b is the month's last day). A part spanning two months
 * is split at the month. For answers per campaign (rankings), not per day: the parts
 * carry no time. Other parts are kept as they are.
 */
export function runningTotals(parts: readonly RangePart[]): RangePart[] {
  return parts.flatMap((part) => {
    if (part.source !== "campaign_daily" || part.bucket || part.seriesLookup) return [part];
    if (!part.from || !part.to) return [part];
    const out: RangePart[] = [];
    for (let start = part.from; start.getTime() < part.to.getTime();) {
      const monthStart = floorUtcMonth(start);
      const monthEnd = ceilUtcMonth(new Date(monthStart.getTime() + 1));
      const end = monthEnd.getTime() < part.to.getTime() ? monthEnd : part.to;
      if (end.getTime() === monthEnd.getTime()) {
        out.push({ source: "campaign_monthly", from: monthStart, to: monthEnd });
      } else out.push({ source: "campaign_mtd", day: dayBefore(end), sign: 1 });
      if (start.getTime() > monthStart.getTime()) {
        out.push({ source: "campaign_mtd", day: dayBefore(start), sign: -1 });
      }
      start = end;
    }
    return out;
  });
}

const dayBefore = (date: Date) => new Date(date.getTime() - DAY_MS).toISOString().slice(0, 10);

/**
 * Series buckets: each bucket [start, end) of the zone (its first local day `label`)
 * planned on its own and labelled, so a rollup row is only ever counted in the bucket
 * that holds all of its rows. Adjacent raw parts are merged (raw rows are bucketed by
 * their own timestamps).
 */
export function planBuckets(
  buckets: readonly { label: string; from: Date; to: Date }[],
  shape: RangeShape,
): RangePart[] {
  const parts: RangePart[] = [];
  // Raw rows carry their own time, and a daily row whose bucket is its own UTC day (days
  // of a zone at UTC+0) its own label: such neighbours merge into one part.
  const merge = (part: RangePart) => {
    const last = parts.findLast((p) => p.source === part.source && !p.bucket);
    if (last?.to && part.from && last.to.getTime() === part.from.getTime()) {
      last.to = part.to;
      delete last.day; // no longer inside one day
    } else parts.push({ ...part });
  };
  for (const bucket of buckets) {
    for (const part of planRange(bucket.from, bucket.to, shape)) {
      if (part.source === "raw") merge(part);
      else if (part.source === "campaign_daily" && isOwnDay(part, bucket.label)) merge(part);
      else parts.push({ ...part, bucket: bucket.label });
    }
  }
  return parts;
}

const isOwnDay = (part: RangePart, label: string) =>
  part.from !== undefined && part.to !== undefined &&
  part.to.getTime() - part.from.getTime() === DAY_MS &&
  part.from.toISOString().slice(0, 10) === label;

/**
 * Converted reads: money in a currency other than the target converts at the rate of
 * its calendar day in the query's zone, so it is read per day of the zone. Each day is
 * planned on its own (`planBuckets`): a daily rollup row answers a day of the zone only
 * when that day is exactly its UTC day (every day in UTC, where adjacent days merge into
 * one range of `campaign_daily`), and the rest comes from raw rows; both are looked up
 * per series (`seriesLookup`). A campaign filter or an open bound: raw rows (by primary
 * key for a campaign filter). Money already in the target needs no rate and is planned
 * by `planRange`, as unconverted reads are.
 */
export function planZoneDays(
  from: Date | undefined,
  to: Date | undefined,
  timeZone: string,
  shape: { campaignFilter?: boolean } = {},
): RangePart[] {
  if (shape.campaignFilter) return [{ source: "raw", from, to }];
  const parts = from && to && from.getTime() < to.getTime()
    ? planBuckets(zoneBuckets(from, to, "day", timeZone), { grain: "campaign" })
    : [{ source: "raw" as const, from, to }];
  return parts.map((part) =>
    (part.source === "raw" && !part.day) || part.source === "campaign_daily"
      ? { ...part, seriesLookup: true }
      : part
  );
}

/** The first day of the bucket holding a calendar day (weeks start on Monday, as date_trunc). */
export function bucketLabel(date: string, granularity: "day" | "week" | "month"): string {
  if (granularity === "day") return date;
  if (granularity === "month") return `${date.slice(0, 7)}-01`;
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return shiftDate(date, -((weekday + 6) % 7));
}

/** The buckets of a zone over [from, to), each clipped to the range. */
export function zoneBuckets(
  from: Date,
  to: Date,
  granularity: "day" | "week" | "month",
  zone: string,
): { label: string; from: Date; to: Date }[] {
  const buckets: { label: string; from: Date; to: Date }[] = [];
  let label = bucketLabel(calendarDateIn(from, zone), granularity);
  let start = from;
  while (start.getTime() < to.getTime()) {
    const next = granularity === "day"
      ? shiftDate(label, 1)
      : granularity === "week"
      ? shiftDate(label, 7)
      : bucketLabel(shiftDate(label, 32), "month");
    const nextStart = startOfDayIn(next, zone);
    const end = nextStart.getTime() < to.getTime() ? nextStart : to;
    if (end.getTime() > start.getTime()) buckets.push({ label, from: start, to: end });
    label = next;
    start = end;
  }
  return buckets;
}

/** A single rollup part covering exactly one calendar month (UTC). */
export function isOneWholeMonth(parts: readonly RangePart[]): boolean {
  if (parts.length !== 1 || parts[0].source !== "campaign_monthly") return false;
  const { from, to } = parts[0];
  if (!from || !to) return false;
  return ceilUtcMonth(new Date(from.getTime() + 1)).getTime() === to.getTime();
}
