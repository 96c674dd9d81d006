/**
 * Dates in a prompt: every rule of the table finds its expressions, then ranges are
 * joined ("from X to Y") and at most two periods kept, the one asked about and the
 * one it is compared with ("this week vs last week", "MoM").
 */
import { addDays, subDays } from "date-fns";
import {
  addUnits,
  daysBetween,
  previousUnits,
  type Span,
  type Unit,
  unitStart,
  unitToDate,
  wholeUnit,
} from "./calendar.ts";
import { DATE_RULES, type DateHit, pointSpan, type Relative } from "./date_rules.ts";
import type { MaskedText } from "./masked_text.ts";

export interface DateFinding {
  readonly range: Span | null;
  readonly compareTo: Span | null;
  /** How many time expressions were said (after joining ranges). */
  readonly count: number;
}

export function extractDates(text: MaskedText, today: Date): DateFinding {
  const hits: DateHit[] = [];
  for (const rule of DATE_RULES) {
    text.scan(rule.pattern, (match) => {
      const draft = rule.read(match, today, text.value);
      if (!draft) return false;
      hits.push({ ...draft, start: match.index, end: match.index + match[0].length });
      return true;
    });
  }
  hits.sort((a, b) => a.start - b.start);
  const joined = joinRanges(hits, text.value, today).map((hit) => endByToday(hit, today));
  const periods = applyPeriodComparisons(joined, text.value, today);
  return { range: periods[0] ?? null, compareTo: periods[1] ?? null, count: periods.length };
}

/** "between X and Y", "from X to Y", "X - Y", "since X". */
function joinRanges(hits: readonly DateHit[], text: string, today: Date): DateHit[] {
  const result: DateHit[] = [];
  for (let index = 0; index < hits.length; index++) {
    const hit = hits[index];
    const next = hits[index + 1];
    const before = text.slice(0, hit.start);
    if (next && hit.joinable && next.joinable && hit.span && next.span) {
      const between = text.slice(hit.end, next.start).trim();
      const isRange = /^(?:-|to|through|until|till|up to|and)$/.test(between) &&
        (between !== "and" || /\bbetween\s*$/.test(before)) &&
        // "compare march to april" sets two periods side by side.
        !(between === "to" && COMPARE_OPENING.test(before) &&
          !/\b(?:from|between)\s*$/.test(before));
      if (isRange) {
        const [from, to] = alignYears(hit, next, today);
        if (from && to && from.from <= to.to) {
          result.push({ ...hit, end: next.end, span: { from: from.from, to: to.to }, unit: null });
          index++;
          continue;
        }
      }
      // "yesterday and today": adjacent days read as one stretch, not as two to compare
      // ("compare january and february" sets them side by side).
      if (between === "and" && areAdjacent(hit.span, next.span) && !COMPARING.test(text)) {
        const from = hit.span.from < next.span.from ? hit.span.from : next.span.from;
        const to = hit.span.to > next.span.to ? hit.span.to : next.span.to;
        result.push({ ...hit, end: next.end, span: { from, to }, unit: null });
        index++;
        continue;
      }
    }
    // "the week of April 8": the Monday-to-Sunday week holding it; "the week starting …": 7 days.
    const weekOf = /\bweek (of|starting|beginning)(?: on)?\s*$/.exec(before);
    if (weekOf && hit.point?.day != null && hit.span) {
      const span = weekOf[1] === "of"
        ? wholeUnit(hit.span.from, "week")
        : { from: hit.span.from, to: addDays(hit.span.from, 6) };
      result.push({ ...hit, span, unit: null });
      continue;
    }
    const opensRange =
      /\b(?:since|starting(?: from| on| with)?|beginning(?: on)?|after)\s*$/.test(before) ||
      (/\bfrom\s*$/.test(before) && !next);
    if (opensRange && hit.span && hit.span.from <= today) {
      result.push({ ...hit, span: { from: hit.span.from, to: today }, unit: null });
      continue;
    }
    result.push(hit);
  }
  return result;
}

/** "compare march to april", "comparing q1 to": the words before a period comparison. */
const COMPARE_OPENING = /\bcompar(?:e|ing)\s+(?:[a-z\u2022]+\s+){0,3}$/;
const COMPARING = /\b(?:compare|compared|comparing|comparison|vs|versus|against)\b/;

/** Ranges never end after today: "April 1 to May 15" asked on April 24 ends on April 24. */
function endByToday(hit: DateHit, today: Date): DateHit {
  if (!hit.span || hit.span.to <= today || hit.span.from > today) return hit;
  return { ...hit, span: { from: hit.span.from, to: today } };
}

function areAdjacent(a: Span, b: Span): boolean {
  return daysBetween(a.to, b.from) === 1 || daysBetween(b.to, a.from) === 1;
}

/** In "Dec 15 to Jan 10" or "March 1 to May 1" the implicit years must make an ordered range. */
function alignYears(first: DateHit, second: DateHit, today: Date): [Span | null, Span | null] {
  const a = first.point;
  const b = second.point;
  if (!a || !b || a.explicitYear && b.explicitYear) return [first.span, second.span];
  if (!a.explicitYear && !b.explicitYear) {
    // X in the latest year it has begun; Y the first such date on or after X.
    let year = a.year;
    let span = pointSpan({ ...b, year }, today);
    if (span && first.span && span.to < first.span.from) {
      span = pointSpan({ ...b, year: ++year }, today);
    }
    return [first.span, span];
  }
  if (a.explicitYear) {
    let year = a.year;
    let span = pointSpan({ ...b, year }, today);
    if (span && first.span && span.to < first.span.from) {
      span = pointSpan({ ...b, year: ++year }, today);
    }
    return [first.span, span];
  }
  let year = b.year;
  let span = pointSpan({ ...a, year }, today);
  if (span && second.span && span.from > second.span.to) {
    span = pointSpan({ ...a, year: --year }, today);
  }
  return [span, second.span];
}

/**
 * Turns the hits into at most two periods: the first said, and the one it is compared
 * with. Relative hits ("the previous week") lean on the period before them.
 */
function applyPeriodComparisons(hits: readonly DateHit[], text: string, today: Date): Span[] {
  const periods: Span[] = [];
  let anchor: DateHit | null = null;
  for (const hit of hits) {
    const span = hit.relative && anchor?.span ? relativeTo(anchor, hit.relative) : hit.span;
    if (!span) continue;
    periods.push(span);
    anchor ??= hit;
    if (periods.length === 2) break;
  }
  if (periods.length === 1 && anchor) {
    const implied = impliedCurrentPeriod(anchor, text, today);
    if (implied) return [implied, periods[0]];
  }
  if (periods.length < 2) {
    const overPeriod = periodOverPeriod(text, periods[0] ?? null, today);
    if (overPeriod) return overPeriod;
  }
  return periods;
}

/** "roas vs last month": the period the user is in, against the one said. */
function impliedCurrentPeriod(hit: DateHit, text: string, today: Date): Span | null {
  const before = text.slice(0, hit.start);
  if (
    !hit.span || !hit.unit ||
    !/\b(?:vs|versus|compared (?:to|with)|against|relative to)\s*$/.test(before)
  ) {
    return null;
  }
  const current = unitToDate(today, hit.unit);
  return current.from > hit.span.to ? current : null;
}

function relativeTo(anchor: DateHit, relative: Relative): Span | null {
  const base = anchor.span!;
  if (relative.type === "same") {
    return {
      from: addUnits(base.from, relative.unit, -1),
      to: addUnits(base.to, relative.unit, -1),
    };
  }
  if (relative.count !== null) {
    if (relative.unit === "day" || relative.unit === "week") {
      const days = relative.unit === "day" ? relative.count : 7 * relative.count;
      return { from: subDays(base.from, days), to: subDays(base.from, 1) };
    }
    if (relative.unit === "period" || relative.unit === "length") return null;
    return {
      from: unitStart(addUnits(base.from, relative.unit, -relative.count), relative.unit),
      to: subDays(base.from, 1),
    };
  }
  const unit = relative.unit === "length"
    ? null
    : relative.unit === "period"
    ? anchor.unit
    : relative.unit;
  if (unit && unit !== "day" || unit === "day" && daysBetween(base.from, base.to) === 0) {
    return wholeUnit(addUnits(unitStart(base.from, unit), unit, -1), unit);
  }
  // Any other period: the same number of days just before it.
  const length = daysBetween(base.from, base.to) + 1;
  return { from: subDays(base.from, length), to: subDays(base.from, 1) };
}

/**
 * "week over week", "MoM", "YoY": a period against the one a unit earlier. Said alone,
 * the period is the last whole one (for YoY, last month); with a date, that date.
 */
function periodOverPeriod(text: string, range: Span | null, today: Date): Span[] | null {
  const match =
    /\b(?:(day|week|month|quarter|year) (?:over|on|vs) (?:the )?(?:previous |prior )?\1|(dod|wow|mom|qoq|yoy))\b/
      .exec(text);
  if (!match) return null;
  const said = (match[1] ?? OVER_PERIOD_SHORT[match[2]]) as Unit;
  const first = range ?? previousUnits(today, said === "year" ? "month" : said, 1);
  return [first, shiftBack(first, said)];
}

/**
 * The same period one unit earlier: whole calendar units stay whole ("March" one month
 * earlier is February); anything else moves both ends back (clamped to month ends).
 */
export function shiftBack(span: Span, by: Unit): Span {
  const whole = wholeUnitOf(span);
  const from = addUnits(span.from, by, -1);
  if (whole && UNIT_RANK[by] >= UNIT_RANK[whole]) return wholeUnit(from, whole);
  return { from, to: addUnits(span.to, by, -1) };
}

const UNIT_RANK: Readonly<Record<Unit, number>> = {
  day: 0,
  week: 1,
  month: 2,
  quarter: 3,
  year: 4,
};

/** The calendar unit a span covers exactly, if any. */
export function wholeUnitOf(span: Span): Unit | null {
  for (const unit of ["year", "quarter", "month"] as const) {
    const whole = wholeUnit(span.from, unit);
    if (
      whole.from.getTime() === span.from.getTime() && whole.to.getTime() === span.to.getTime()
    ) {
      return unit;
    }
  }
  return null;
}

const OVER_PERIOD_SHORT: Readonly<Record<string, Unit>> = {
  dod: "day",
  wow: "week",
  mom: "month",
  qoq: "quarter",
  yoy: "year",
};
