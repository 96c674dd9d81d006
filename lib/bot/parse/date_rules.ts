/**
 * The table of date expressions: each rule reads one way of saying a period
 * ("last 7 days", "Q1 2024", "since April 1") relative to today. Mostly data.
 */
import {
  addDays,
  getDay,
  lastDayOfMonth,
  lastDayOfQuarter,
  lastDayOfYear,
  startOfWeek,
  subDays,
} from "date-fns";
import { NUMBER_WORDS } from "../vocabulary.ts";
import {
  addUnits,
  clampToToday,
  daySpan,
  previousUnits,
  type Span,
  trailingDays,
  type Unit,
  unitStart,
  unitToDate,
  validDay,
  WEEK_OPTIONS,
  wholeUnit,
} from "./calendar.ts";
import { countOf } from "./text.ts";
import {
  AGO_COUNT,
  AMBIGUOUS_MONTHS,
  COUNT,
  DATE_PREPOSITION,
  DAY,
  MONTH,
  MONTH_FOLLOWS,
  MONTHS,
  WEEKDAYS,
  YEAR,
} from "./date_words.ts";

/** An explicit calendar point ("April 5", "March 2023"): its year can be fixed up in ranges. */
export interface CalendarPoint {
  readonly month: number;
  readonly day: number | null;
  readonly year: number;
  readonly explicitYear: boolean;
}

/** "the previous week" / "the same period last year": resolved against the period before it. */
export type Relative =
  | {
    readonly type: "previous";
    /** "period": the unit of the period before it; "length": the same number of days. */
    readonly unit: Unit | "period" | "length";
    readonly count: number | null;
  }
  | { readonly type: "same"; readonly unit: Unit };

export interface DateHit {
  readonly start: number;
  readonly end: number;
  /** What the words mean on their own; null when they only make sense after another period. */
  readonly span: Span | null;
  readonly unit: Unit | null;
  /** Explicit dates and single calendar periods can be joined by "to" / "between … and". */
  readonly joinable: boolean;
  readonly point?: CalendarPoint;
  readonly relative?: Relative;
}

export type HitDraft = Omit<DateHit, "start" | "end">;

function unitOf(word: string): Unit | "fortnight" | "hour" {
  const singular = word.replace(/s$/, "");
  return singular as Unit | "fortnight" | "hour";
}

/** The latest year in which month/day has begun (≤ today). */
function latestBegunYear(month: number, day: number, today: Date): number {
  const year = today.getFullYear();
  return new Date(year, month, day) > today ? year - 1 : year;
}

function monthSpan(year: number, month: number, today: Date): Span {
  const from = new Date(year, month, 1);
  return clampToToday({ from, to: lastDayOfMonth(from) }, today);
}

export function pointSpan(point: CalendarPoint, today: Date): Span | null {
  if (point.day === null) return monthSpan(point.year, point.month, today);
  const date = validDay(point.year, point.month, point.day);
  return date ? daySpan(date) : null;
}

function calendarPoint(
  month: number,
  day: number | null,
  yearText: string | undefined,
  today: Date,
): HitDraft | null {
  const explicitYear = yearText !== undefined;
  const year = explicitYear ? Number(yearText) : latestBegunYear(month, day ?? 1, today);
  const point = { month, day, year, explicitYear };
  const span = pointSpan(point, today);
  return span ? { span, unit: day === null ? "month" : "day", joinable: true, point } : null;
}

function quarterSpan(quarter: number, yearText: string | undefined, today: Date): Span {
  const month = (quarter - 1) * 3;
  const year = yearText ? Number(yearText) : latestBegunYear(month, 1, today);
  const from = new Date(year, month, 1);
  return clampToToday({ from, to: lastDayOfQuarter(from) }, today);
}

function halfSpan(half: number, yearText: string | undefined, today: Date): Span {
  const month = (half - 1) * 6;
  const year = yearText ? Number(yearText) : latestBegunYear(month, 1, today);
  const from = new Date(year, month, 1);
  return clampToToday({ from, to: lastDayOfMonth(new Date(year, month + 5, 1)) }, today);
}

/** "last N <unit>s": trailing days for days and weeks, whole units otherwise. */
function lastCount(count: number, unitWord: string, today: Date): Span | null {
  if (count <= 0) return null;
  const unit = unitOf(unitWord);
  switch (unit) {
    case "day":
      return trailingDays(today, count);
    case "week":
      return trailingDays(today, 7 * count);
    case "fortnight":
      return trailingDays(today, 14 * count);
    case "hour":
      return { from: subDays(today, Math.ceil(count / 24)), to: today };
    default:
      return previousUnits(today, unit, count);
  }
}

function mostRecentWeekday(target: number, today: Date, strictlyBefore: boolean): Date {
  let back = (getDay(today) - target + 7) % 7;
  if (back === 0 && strictlyBefore) back = 7;
  return subDays(today, back);
}

function weekendSpan(today: Date, completedOnly: boolean): Span {
  const weekday = getDay(today);
  if (!completedOnly && weekday === 6) return daySpan(today);
  if (!completedOnly && weekday === 0) return { from: subDays(today, 1), to: today };
  const monday = startOfWeek(weekday === 0 ? subDays(today, 1) : today, WEEK_OPTIONS);
  return { from: subDays(monday, 2), to: subDays(monday, 1) };
}

/** Words after "vs last" that make it a full expression ("vs last week"), not an ellipsis. */
const ELLIPSIS_BLOCKERS = [
  ...Object.keys(NUMBER_WORDS),
  ...Object.keys(MONTHS),
  ...Object.keys(WEEKDAYS),
  "days?",
  "weeks?",
  "months?",
  "quarters?",
  "years?",
  "period",
  "time",
  "fortnight",
  "weekend",
  "night",
  "launched",
  "campaigns?",
  "ads?",
].join("|");

/** Words that make "currently" describe a campaign's status, not a day. */
const STATUS_WORDS = /\b(?:running|live|active|paused|enabled|launched|on air|going)\b/;

/** "the previous 2 weeks", "the two weeks before": after another period, the N before it. */
function previousCount(count: string, unitWord: string, today: Date): HitDraft {
  const fortnight = unitOf(unitWord) === "fortnight";
  return {
    span: lastCount(countOf(count), unitWord, today),
    unit: null,
    joinable: false,
    relative: {
      type: "previous",
      unit: fortnight ? "week" : unitOf(unitWord) as Unit,
      count: countOf(count) * (fortnight ? 2 : 1),
    },
  };
}

/** "the 5th" with no month: the latest such day that has begun (this month or last). */
function dayOfRecentMonth(day: number, today: Date): HitDraft | null {
  const first = new Date(
    today.getFullYear(),
    today.getMonth() - (today.getDate() >= day ? 0 : 1),
    1,
  );
  const date = validDay(first.getFullYear(), first.getMonth(), day);
  if (!date) return null;
  return {
    span: daySpan(date),
    unit: "day",
    joinable: true,
    point: { month: date.getMonth(), day, year: date.getFullYear(), explicitYear: true },
  };
}

interface DateRule {
  readonly pattern: RegExp;
  readonly read: (match: RegExpExecArray, today: Date, text: string) => HitDraft | null;
}

function period(span: Span | null, unit: Unit | null, joinable = false): HitDraft | null {
  return span ? { span, unit, joinable } : null;
}

/** Ordered: longer and more specific expressions first, since each masks what it reads. */
export const DATE_RULES: readonly DateRule[] = [
  {
    // 2024-04-05, 2024/4/5
    pattern: /\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b/g,
    read: ([, year, month, day], today) =>
      calendarPoint(Number(month) - 1, Number(day), year, today),
  },
  {
    // April 1-20, Apr 1 to 20 2024
    pattern: new RegExp(
      String
        .raw`\b${MONTH} ${DAY} ?(?:-|to|through|until|till) ?(?:the )?${DAY}(?! ?${MONTH})(?: ${YEAR})?\b`,
      "g",
    ),
    read: ([, month, first, last, year], today) =>
      dayRangeInMonth(MONTHS[month], Number(first), Number(last), year, today),
  },
  {
    // 1-20 April
    pattern: new RegExp(
      String.raw`\b${DAY} ?(?:-|to|through|until|till) ?${DAY} (?:of )?${MONTH}(?: ${YEAR})?\b`,
      "g",
    ),
    read: ([, first, last, month, year], today) =>
      dayRangeInMonth(MONTHS[month], Number(first), Number(last), year, today),
  },
  {
    // the first week of April: days 1–7, 8–14, …; the last week is its last seven days
    pattern: new RegExp(
      String
        .raw`\b(?:the )?(first|second|third|fourth|1st|2nd|3rd|4th|last|final) week (?:of|in) ${MONTH}(?: ${YEAR})?\b`,
      "g",
    ),
    read: ([, which, month, year], today) => weekOfMonth(which, MONTHS[month], year, today),
  },
  {
    // April 5, Apr 5th 2024
    pattern: new RegExp(
      String
        .raw`\b${MONTH} (?:the )?${DAY}(?: ${YEAR})?\b(?! ?(?:days?|weeks?|months?|years?|percent|k)\b)`,
      "g",
    ),
    read: ([, month, day, year], today) => calendarPoint(MONTHS[month], Number(day), year, today),
  },
  {
    // 5 April, the 5th of April
    pattern: new RegExp(
      String
        .raw`(?<!\b(?:top|bottom|best|worst|last|past|first|over|under) )\b(?:the )?${DAY} (?:of )?${MONTH}(?: ${YEAR})?\b`,
      "g",
    ),
    read: ([, day, month, year], today) => calendarPoint(MONTHS[month], Number(day), year, today),
  },
  {
    // 4/5, 4/5/2024 (month first)
    pattern: /\b(\d{1,2})\/(\d{1,2})(?:\/(\d{4}|\d{2}))?\b/g,
    read: ([, month, day, year], today) =>
      calendarPoint(
        Number(month) - 1,
        Number(day),
        year?.length === 2 ? `20${year}` : year,
        today,
      ),
  },
  {
    pattern: /\b(?:the )?day before yesterday\b/g,
    read: (_, today) => period(daySpan(subDays(today, 2)), "day", true),
  },
  {
    // 3 days ago, a week ago
    pattern: new RegExp(
      String.raw`\b${AGO_COUNT} (days?|weeks?|months?|quarters?|years?) ago\b`,
      "g",
    ),
    read: ([, count, unitWord], today) => {
      const unit = unitOf(unitWord) as Unit;
      return period(wholeUnit(addUnits(today, unit, -countOf(count)), unit), unit, true);
    },
  },
  {
    pattern: /\bthe (week|month|quarter|year) before last\b/g,
    read: ([, unit], today) =>
      period(wholeUnit(addUnits(today, unit as Unit, -2), unit as Unit), unit as Unit),
  },
  {
    // right now, atm: today, unless they describe a status ("currently running")
    pattern: /\b(?:right now|currently|atm|at the moment|as of now|as we speak)\b/g,
    read: (match, today, text) =>
      STATUS_WORDS.test(
          text.slice(Math.max(0, match.index - 24), match.index + match[0].length + 24),
        )
        ? null
        : period(daySpan(today), "day", true),
  },
  {
    pattern: /\b(?:so far )?today(?: so far)?\b/g,
    read: (_, today) => period(daySpan(today), "day", true),
  },
  {
    pattern: /\b(?:yesterday|last night)\b/g,
    read: (_, today) => period(daySpan(subDays(today, 1)), "day", true),
  },
  {
    // since the start of the month, beginning of last quarter
    pattern:
      /\b(?:the )?(?:start|beginning) of (?:the |this )?(last |previous )?(week|month|quarter|year)\b/g,
    read: ([, previous, unit], today) => {
      const start = unitStart(addUnits(today, unit as Unit, previous ? -1 : 0), unit as Unit);
      return period({ from: start, to: today }, null);
    },
  },
  {
    // same period last year, the same week a year ago
    pattern:
      /\b(?:the )?same (?:period|time|timeframe|time frame|time period|range|dates?|days?|week|month|quarter) (?:of |in )?(?:the )?(?:last|a|one|previous|prior) (week|month|quarter|year)(?: ago| before)?\b/g,
    read: ([, unit]) => ({
      span: null,
      unit: null,
      joinable: false,
      relative: { type: "same", unit: unit as Unit },
    }),
  },
  {
    // the previous 7 days (after another period: the 7 days before it)
    pattern: new RegExp(
      String
        .raw`\b(?:the )?(?:previous|prior|preceding) ${COUNT} (days?|weeks?|months?|quarters?|years?)\b|\bthe ${COUNT} (days?|weeks?|months?|quarters?|years?) (?:before|prior|earlier)\b`,
      "g",
    ),
    read: ([, countFirst, unitFirst, countAfter, unitAfter], today) =>
      previousCount(countFirst ?? countAfter, unitFirst ?? unitAfter, today),
  },
  {
    // the previous week / the week before / the prior period / the previous one
    pattern:
      /\b(?:(?:the )?(?:previous|prior|preceding) (day|week|month|quarter|year|period|one|time period)|the (day|week|month|quarter|year|period|one) (?:before|prior|earlier)|the (?:period|one) before)\b/g,
    read: ([, first, second], today) => {
      const word = first ?? second ?? "period";
      // "the previous period" is as long as the one before it; "the previous one" is its unit.
      const unit: Unit | "period" | "length" = word === "one"
        ? "period"
        : word === "period" || word === "time period"
        ? "length"
        : word as Unit;
      const calendarUnit = unit === "period" || unit === "length" ? null : unit;
      return {
        span: calendarUnit ? previousUnits(today, calendarUnit, 1) : null,
        unit: calendarUnit,
        joinable: false,
        relative: { type: "previous", unit, count: null },
      };
    },
  },
  {
    // "this week vs last": the period before the one just said
    pattern: new RegExp(
      String
        .raw`(?<=\b(?:vs|versus|to|with|against|than|and) (?:the )?)(?:last|previous|prior|preceding)\b(?! (?:\d|${ELLIPSIS_BLOCKERS}))`,
      "g",
    ),
    read: () => ({
      span: null,
      unit: null,
      joinable: false,
      relative: { type: "previous", unit: "period", count: null },
    }),
  },
  {
    // the last week, over the past week, this past month: "last 1 <unit>"
    pattern:
      /\b(?:(?:in|over|during|for|within) )?(?:the (?:last|past)|(?:this )?past) (day|week|fortnight|month|quarter|year)\b(?! 's)/g,
    read: ([, unit], today) => period(lastCount(1, unit, today), null),
  },
  {
    // last 7 days, past two weeks, the last 3 months
    pattern: new RegExp(
      String
        .raw`\b(?:(?:in|over|during|for|within) )?(?:the )?(?:last|past|trailing|recent) ${COUNT} (days?|weeks?|fortnights?|months?|quarters?|years?|hours?)\b`,
      "g",
    ),
    read: ([, count, unit], today) => period(lastCount(countOf(count), unit, today), null),
  },
  {
    pattern: /\b(?:(last|this past|past|this|the) )?weekend\b/g,
    read: ([, which], today) => period(weekendSpan(today, which === "last"), null, true),
  },
  {
    pattern: /\b(?:last|past) fortnight\b/g,
    read: (_, today) => period(trailingDays(today, 14), null),
  },
  {
    // the previous calendar month: the whole unit before this one
    pattern:
      /\b(?:the )?(?:previous|prior|last) (?:full |whole |complete )?calendar (week|month|quarter|year)\b/g,
    read: ([, unit], today) => period(previousUnits(today, unit as Unit, 1), unit as Unit),
  },
  {
    // last week, last week's, last month, last year
    pattern: /\blast (week|month|quarter|year)\b/g,
    read: ([, unit], today) => period(previousUnits(today, unit as Unit, 1), unit as Unit),
  },
  {
    // this week, current month, quarter to date, YTD
    pattern:
      /\b(?:(?:so far )?(?:this|current|the current|this current) (week|month|quarter|year)(?: so far| to date)?|(week|month|quarter|year) to date|(wtd|mtd|qtd|ytd))\b/g,
    read: ([, first, second, short], today) => {
      const unit = (first ?? second ?? SHORT_TO_DATE[short]) as Unit;
      return period(unitToDate(today, unit), unit);
    },
  },
  {
    // Q1, q2 2023, first quarter of 2024, 2024 q3
    pattern: new RegExp(
      String
        .raw`\b(?:q([1-4])|(first|second|third|fourth|1st|2nd|3rd|4th) quarter)(?: (?:of )?${YEAR})?\b|\b${YEAR} q([1-4])\b`,
      "g",
    ),
    read: ([, q, ordinal, year, yearFirst, qAfter], today) => {
      const quarter = q ? Number(q) : qAfter ? Number(qAfter) : ORDINALS[ordinal];
      return period(quarterSpan(quarter, year ?? yearFirst, today), "quarter", true);
    },
  },
  {
    pattern: new RegExp(
      String.raw`\b(?:h([12])|(first|second|1st|2nd) half)(?: (?:of )?${YEAR})?\b`,
      "g",
    ),
    read: ([, h, ordinal, year], today) =>
      period(halfSpan(h ? Number(h) : ORDINALS[ordinal], year, today), null, true),
  },
  {
    // in March, March 2023, since april
    pattern: new RegExp(String.raw`\b${MONTH}(?: (?:of )?${YEAR})?\b`, "g"),
    read: (match, today, text) => {
      const [, month, year] = match;
      const guarded = AMBIGUOUS_MONTHS.has(month) && !year &&
        !DATE_PREPOSITION.test(text.slice(0, match.index)) &&
        !MONTH_FOLLOWS.test(text.slice(match.index + match[0].length));
      return guarded ? null : calendarPoint(MONTHS[month], null, year, today);
    },
  },
  {
    // 2023, in 2024 (not "2000 clicks")
    pattern: new RegExp(
      String
        .raw`\b${YEAR}\b(?! ?(?:clicks|impressions|conversions|leads|sales|views|dollars|usd|euros|percent|k|people|users|times|orders|purchases|signups|installs|visits|visitors)\b)`,
      "g",
    ),
    read: (match, today, text) => {
      if (
        /\b(?:over|under|above|below|than|least|most|top|about)\s*$/.test(
          text.slice(0, match.index),
        )
      ) {
        return null;
      }
      const from = new Date(Number(match[1]), 0, 1);
      return period(clampToToday({ from, to: lastDayOfYear(from) }, today), "year", true);
    },
  },
  {
    // monday, last friday, on tue
    pattern: new RegExp(
      String.raw`\b(?:(last|this|on|past) )?(${Object.keys(WEEKDAYS).join("|")})\b`,
      "g",
    ),
    read: (match, today, text) => {
      const [, which, weekday] = match;
      // "Black Friday", "Cyber Monday", "Good Friday" are days of the year, not of last week.
      if (/\b(?:black|cyber|good|giving|super)\s*$/.test(text.slice(0, match.index))) return null;
      // "sat", "sun", "wed" are words too: only dates after "on", "last", "since" ….
      if (weekday.length <= 4 && !which && !DATE_PREPOSITION.test(text.slice(0, match.index))) {
        return null;
      }
      const target = WEEKDAYS[weekday];
      const date = which === "this"
        ? addDays(startOfWeek(today, WEEK_OPTIONS), (target + 6) % 7)
        : mostRecentWeekday(target, today, which === "last" || which === "past");
      return period(daySpan(date), "day", true);
    },
  },
  {
    // on the 5th, from the 1st to the 15th (no month said)
    pattern: new RegExp(
      String
        .raw`\bthe (\d{1,2})(?:st|nd|rd|th)\b(?! (?:of )?${MONTH}\b)(?! (?:day|week|month|quarter|year|campaign|place|percentile|best|worst|most|highest|lowest)s?\b)`,
      "g",
    ),
    read: ([, day], today) => dayOfRecentMonth(Number(day), today),
  },
  {
    pattern: /\b(?:recently|lately|of late|(?:in )?recent (?:days|weeks))\b/g,
    read: (_, today) => period(trailingDays(today, 7), null),
  },
];

const SHORT_TO_DATE: Readonly<Record<string, Unit>> = {
  wtd: "week",
  mtd: "month",
  qtd: "quarter",
  ytd: "year",
};
const ORDINALS: Readonly<Record<string, number>> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  "1st": 1,
  "2nd": 2,
  "3rd": 3,
  "4th": 4,
};

function weekOfMonth(
  which: string,
  month: number,
  yearText: string | undefined,
  today: Date,
): HitDraft {
  const year = yearText ? Number(yearText) : latestBegunYear(month, 1, today);
  const lastDay = lastDayOfMonth(new Date(year, month, 1));
  const from = which === "last" || which === "final"
    ? subDays(lastDay, 6)
    : new Date(year, month, 1 + 7 * (ORDINALS[which] - 1));
  return { span: clampToToday({ from, to: addDays(from, 6) }, today), unit: null, joinable: true };
}

function dayRangeInMonth(
  month: number,
  first: number,
  last: number,
  yearText: string | undefined,
  today: Date,
): HitDraft | null {
  const year = yearText ? Number(yearText) : latestBegunYear(month, first, today);
  const from = validDay(year, month, first);
  const to = validDay(year, month, last);
  if (!from || !to || to < from) return null;
  return { span: { from, to }, unit: null, joinable: true };
}
