/**
 * Calendar arithmetic on local-midnight Dates (weeks start on Monday): whole units,
 * units to date, trailing windows. Today's date and day counts come from lib/dates.ts.
 */
import {
  addDays,
  addMonths,
  addQuarters,
  addWeeks,
  addYears,
  format,
  lastDayOfMonth,
  lastDayOfQuarter,
  lastDayOfWeek,
  lastDayOfYear,
  startOfMonth,
  startOfQuarter,
  startOfWeek,
  startOfYear,
  subDays,
} from "date-fns";
import { calendarDateIn, daysBetween as daysFromTo } from "../../dates.ts";
import type { DateRange } from "../query.ts";

const ISO_DATE = "yyyy-MM-dd";

export type Unit = "day" | "week" | "month" | "quarter" | "year";

export interface Span {
  readonly from: Date;
  readonly to: Date;
}

export const WEEK_OPTIONS = { weekStartsOn: 1 } as const;

/**
 * Today's calendar date as a local-midnight Date (date-fns works on local dates; we
 * only ever read the calendar fields back), in UTC unless a time zone is given.
 */
export function calendarToday(now: Date, timeZone = "UTC"): Date {
  return localDate(calendarDateIn(now, timeZone));
}

/** "2024-04-24" as a local-midnight Date. */
export function localDate(isoDate: string): Date {
  const [year, month, day] = isoDate.split("-").map(Number);
  return new Date(year, month - 1, day);
}

export function unitStart(date: Date, unit: Unit): Date {
  switch (unit) {
    case "day":
      return date;
    case "week":
      return startOfWeek(date, WEEK_OPTIONS);
    case "month":
      return startOfMonth(date);
    case "quarter":
      return startOfQuarter(date);
    case "year":
      return startOfYear(date);
  }
}

export function unitLastDay(date: Date, unit: Unit): Date {
  switch (unit) {
    case "day":
      return date;
    case "week":
      return lastDayOfWeek(date, WEEK_OPTIONS);
    case "month":
      return lastDayOfMonth(date);
    case "quarter":
      return lastDayOfQuarter(date);
    case "year":
      return lastDayOfYear(date);
  }
}

export function addUnits(date: Date, unit: Unit, amount: number): Date {
  switch (unit) {
    case "day":
      return addDays(date, amount);
    case "week":
      return addWeeks(date, amount);
    case "month":
      return addMonths(date, amount);
    case "quarter":
      return addQuarters(date, amount);
    case "year":
      return addYears(date, amount);
  }
}

/** The whole calendar unit holding `date`. */
export function wholeUnit(date: Date, unit: Unit): Span {
  return { from: unitStart(date, unit), to: unitLastDay(date, unit) };
}

/** The unit so far: its first day to today. */
export function unitToDate(today: Date, unit: Unit): Span {
  return { from: unitStart(today, unit), to: today };
}

/** "last N months": whole units, the N before the current one. */
export function previousUnits(today: Date, unit: Unit, count: number): Span {
  return {
    from: unitStart(addUnits(today, unit, -count), unit),
    to: unitLastDay(addUnits(today, unit, -1), unit),
  };
}

/** "last N days": today − N to yesterday. */
export function trailingDays(today: Date, days: number): Span {
  return { from: subDays(today, days), to: subDays(today, 1) };
}

/** A running period ends today. */
export function clampToToday(span: Span, today: Date): Span {
  return span.from <= today && today < span.to ? { from: span.from, to: today } : span;
}

export function daySpan(date: Date): Span {
  return { from: date, to: date };
}

/** A query's date range back as calendar dates. */
export function toSpan(range: DateRange): Span {
  return { from: localDate(range.from), to: localDate(range.to) };
}

/** The period of the same number of days that ends the day before `span` starts. */
export function periodBefore(span: Span): Span {
  const length = daysBetween(span.from, span.to) + 1;
  return { from: subDays(span.from, length), to: subDays(span.from, 1) };
}

/** Whether `span` is exactly one calendar `unit` (a Monday-to-Sunday week, a whole month …). */
export function isWholeUnit(span: Span, unit: Unit): boolean {
  const whole = wholeUnit(span.from, unit);
  return whole.from.getTime() === span.from.getTime() && whole.to.getTime() === span.to.getTime();
}

export function toDateRange(span: Span): DateRange {
  return { from: format(span.from, ISO_DATE), to: format(span.to, ISO_DATE) };
}

/** Whole days from one calendar date to another. */
export function daysBetween(from: Date, to: Date): number {
  return daysFromTo(format(from, ISO_DATE), format(to, ISO_DATE));
}

export function validDay(year: number, month: number, day: number): Date | null {
  const date = new Date(year, month, day);
  return date.getMonth() === month && date.getDate() === day ? date : null;
}
