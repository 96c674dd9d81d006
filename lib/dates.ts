/**
 * Calendar days and time zones. A "calendar date" is a `YYYY-MM-DD` string; an
 * instant is a Date. Day boundaries depend on a zone (an ad account's, or the one a
 * user asks in), so conversions always name the zone. Zone offsets come from the
 * runtime's Intl data; calendar arithmetic from date-fns on plain UTC dates.
 */
import { addDays, differenceInCalendarDays, format, isValid, parse } from "date-fns";

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * True for a real calendar date (2024-02-29 yes, 2023-02-29 and 2024-02-30 no).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCalendarDate } from "@campaign-analytics/core";
 *
 * assert.equal(isCalendarDate("2024-02-29"), true);
 * assert.equal(isCalendarDate("2023-02-29"), false);
 * ```
 */
export function isCalendarDate(text: string): boolean {
  const match = CALENDAR_DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day;
}

/**
 * Whether `zone` is an IANA time zone the runtime knows ("Europe/Paris", "UTC").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidTimeZone } from "@campaign-analytics/core";
 *
 * assert.equal(isValidTimeZone("Europe/Paris"), true);
 * assert.equal(isValidTimeZone("Mars/Olympus"), false);
 * ```
 */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const partFormatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = partFormatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    partFormatters.set(zone, formatter);
  }
  return formatter;
}

/** The wall-clock fields of an instant in a zone. */
function wallClock(instant: Date, zone: string) {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(instant)) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  return fields as {
    year: number;
    month: number;
    day: number;
    hour: number;
    minute: number;
    second: number;
  };
}

/** The zone's offset from UTC at an instant, in milliseconds (New York in winter: −5 h). */
export function zoneOffsetMs(instant: Date, zone: string): number {
  const wall = wallClock(instant, zone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/**
 * The calendar date of an instant in a zone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { calendarDateIn } from "@campaign-analytics/core";
 *
 * const instant = new Date("2024-05-01T02:00:00Z");
 * assert.equal(calendarDateIn(instant, "UTC"), "2024-05-01");
 * assert.equal(calendarDateIn(instant, "America/New_York"), "2024-04-30");
 * ```
 */
export function calendarDateIn(instant: Date, zone = "UTC"): string {
  const wall = wallClock(instant, zone);
  return `${String(wall.year).padStart(4, "0")}-${String(wall.month).padStart(2, "0")}-${
    String(wall.day).padStart(2, "0")
  }`;
}

/**
 * The instant a calendar day starts in a zone (midnight, or the first instant after a DST gap).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startOfDayIn } from "@campaign-analytics/core";
 *
 * assert.equal(startOfDayIn("2024-05-01", "Europe/Paris").toISOString(), "2024-04-30T22:00:00.000Z");
 * ```
 */
export function startOfDayIn(date: string, zone = "UTC"): Date {
  const [year, month, day] = date.split("-").map(Number);
  const utcMidnight = Date.UTC(year, month - 1, day);
  // Two passes: the offset at the guess can differ from the offset at the answer
  // when a DST change happens within a day of midnight.
  let guess = utcMidnight - zoneOffsetMs(new Date(utcMidnight), zone);
  guess = utcMidnight - zoneOffsetMs(new Date(guess), zone);
  return new Date(guess);
}

/** A calendar date moved by whole days. */
export function shiftDate(date: string, days: number): string {
  return format(addDays(toUtcDate(date), days), "yyyy-MM-dd");
}

/** Days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: string, to: string): number {
  return differenceInCalendarDays(toUtcDate(to), toUtcDate(from));
}

/** A calendar date as a date-fns friendly local Date at midnight (no zone semantics). */
function toUtcDate(date: string): Date {
  const parsed = parse(date, "yyyy-MM-dd", new Date(0));
  if (!isValid(parsed)) throw new RangeError(`not a calendar date: ${date}`);
  return parsed;
}

/** Splits an inclusive date window into consecutive windows of at most `maxDays` days. */
export function chunkWindow(
  window: { from: string; to: string },
  maxDays: number,
): { from: string; to: string }[] {
  const chunks: { from: string; to: string }[] = [];
  for (let start = window.from; daysBetween(start, window.to) >= 0;) {
    const end = daysBetween(start, window.to) < maxDays ? window.to : shiftDate(start, maxDays - 1);
    chunks.push({ from: start, to: end });
    start = shiftDate(end, 1);
  }
  return chunks;
}

/**
 * RFC 3339 date-time with an offset (`2024-04-01T10:00:00Z`, seconds optional), parsed
 * strictly: hours 00–23, minutes and seconds 00–59, offsets within ±23:59, on a real
 * calendar date. `Date.parse` alone accepts `T24:00:00` (next midnight) and years that
 * PostgreSQL cannot store with a zone, so both are refused here; undefined when invalid.
 */
const RFC3339_INSTANT =
  /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/i;

export function parseInstant(text: string): Date | undefined {
  const match = RFC3339_INSTANT.exec(text);
  if (!match || !isCalendarDate(match[1])) return undefined;
  const [hour, minute, second, offsetHours, offsetMinutes] = [2, 3, 4, 7, 8].map((i) =>
    Number(match[i] ?? 0)
  );
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) {
    return undefined;
  }
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The calendar the API accepts. Rows: from 2000-01-01 to one year after "now" (nothing
 * earlier predates online ad platforms; later is a clock or unit error). Query ranges:
 * 2000-01-01 to 2100-12-31, far inside what PostgreSQL and every time zone can represent.
 */
export const EARLIEST_DATE = "2000-01-01";
export const LATEST_QUERY_DATE = "2100-12-31";
export const EARLIEST_INSTANT = new Date(`${EARLIEST_DATE}T00:00:00Z`);
/** The latest instant a query may name (the end of its last day in UTC). */
export const LATEST_QUERY_INSTANT = new Date("2101-01-01T00:00:00Z");

/** The latest instant a row may carry, relative to `now`. */
export function latestRowInstant(now: Date): Date {
  const limit = new Date(now.getTime());
  limit.setUTCFullYear(limit.getUTCFullYear() + 1);
  return limit;
}
