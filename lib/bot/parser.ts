/**
 * The bot's language layer: a free-form prompt in, a `ParsedQuery` out
 * (shared/bot/contract.md). Rules first, in this order, each masking what it used
 * so later rules cannot read the same words twice:
 *
 *   prepare (quotes, ids, typos) → campaign reference → dates → platforms → metrics → intent
 *
 * The TF-IDF example index is consulted only when the rules see no sign of an
 * ad-performance question at all. Pure and deterministic for a given `now`.
 */
import {
  addDays,
  addMonths,
  addQuarters,
  addWeeks,
  addYears,
  format,
  getDay,
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
import type { Platform } from "../schema.ts";
import {
  type BotMetric,
  type CampaignRef,
  type DateRange,
  type GroupBy,
  type Intent,
  type ParsedQuery,
  type SortOrder,
  unknownQuery,
} from "./query.ts";
import { VectorIndex } from "./vector_search.ts";
import {
  CORRECTION_GUARDS,
  CORRECTION_TARGETS,
  COST_PER_LEADS,
  COST_PER_UNITS,
  INTENT_EXAMPLES,
  LOWER_IS_BETTER,
  METRIC_ALIASES,
  NUMBER_WORDS,
  PLATFORM_PHRASES,
} from "./vocabulary.ts";

export interface ParseOptions {
  /** The instant "today" is taken from; defaults to the current time. */
  readonly now?: Date;
  /** IANA zone whose calendar date is "today"; defaults to UTC. */
  readonly timeZone?: string;
}

export function parsePrompt(prompt: string, options: ParseOptions = {}): ParsedQuery {
  const today = calendarToday(options.now ?? new Date(), options.timeZone);
  // Prompts are a sentence or two; the cap bounds the work a pasted essay could cause.
  const prepared = prepareText(prompt.slice(0, MAX_PROMPT_LENGTH));
  const text = new MaskedText(prepared.text);

  const campaign = extractCampaign(text, prepared);
  const dates = extractDates(text, today);
  const platforms = extractPlatforms(text);
  const metrics = extractMetrics(text);
  const signals: Signals = {
    text: text.value,
    plain: prepared.text,
    campaign,
    dates,
    platforms,
    metrics,
  };

  const intent = classifyIntent(signals);
  if (intent === "unknown") return unknownQuery();
  return assembleQuery(intent, signals);
}

// ---------------------------------------------------------------------------
// Text preparation

const MAX_PROMPT_LENGTH = 2000;

/** Stands in for consumed text; not a word character, so `\b` still works around it. */
const MASK = "\u2022";

interface PreparedText {
  /** Lower case, ASCII punctuation reduced, typos corrected, single spaces. */
  readonly text: string;
  readonly quotedName: string | null;
  readonly campaignId: string | null;
}

/** Holds the prepared text and blanks out the parts that rules have consumed. */
class MaskedText {
  #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  get value(): string {
    return this.#value;
  }

  mask(start: number, end: number): void {
    this.#value = this.#value.slice(0, start) + MASK.repeat(end - start) + this.#value.slice(end);
  }

  /** Runs `pattern` (global) and masks every match for which `onMatch` returns true. */
  scan(pattern: RegExp, onMatch: (match: RegExpExecArray) => boolean): void {
    for (const match of [...this.#value.matchAll(pattern)]) {
      if (onMatch(match)) this.mask(match.index, match.index + match[0].length);
    }
  }
}

/** Tokens like "cmp-42" whose letter part is an ordinary word are not ids ("top-3"). */
const NOT_ID_PREFIXES = new Set([
  "top",
  "bottom",
  "best",
  "worst",
  "last",
  "past",
  "next",
  "first",
  "previous",
  "prior",
  "day",
  "days",
  "week",
  "weeks",
  "month",
  "months",
  "year",
  "years",
  "quarter",
  "the",
  "and",
  "to",
  "vs",
  "from",
  "since",
  "april",
  "march",
  "may",
  "june",
  "july",
]);

function prepareText(prompt: string): PreparedText {
  let text = prompt
    .replace(/[\u2018\u2019\u02bc\u0060\u00b4]/g, "'")
    .replace(/[\u201c\u201d\u201e\u00ab\u00bb]/g, '"');

  let quotedName: string | null = null;
  const takeQuote = (inner: string): string => {
    const name = inner.trim().replace(/\s+/g, " ").toLowerCase();
    if (name && quotedName === null) quotedName = name;
    return ` ${MASK} `;
  };
  text = text.replace(/"([^"]{1,120})"/g, (_, inner: string) => takeQuote(inner));
  // Single quotes only when they open after a space, so "week's" and "what's" survive.
  text = text.replace(
    /(^|[\s(:])'([^']{1,120}?)'(?=$|[\s).,?!:;])/g,
    (_, lead: string, inner: string) => lead + takeQuote(inner),
  );

  text = text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase();
  text = expandContractions(text);

  let campaignId: string | null = null;
  const takeId = (id: string): string => {
    campaignId ??= id;
    return ` ${MASK} `;
  };
  text = text.replace(
    /\bcampaign\s*(?:id|#|no\.?|number)\s*:?\s*#?\s*([a-z0-9-]*\d[\w-]*)/g,
    (_, id) => "campaign " + takeId(id),
  );
  text = text.replace(
    /\b([a-z]+)-(\d+)\b/g,
    (whole: string, prefix: string) => NOT_ID_PREFIXES.has(prefix) ? whole : takeId(whole),
  );
  text = text.replace(/(?<![\d/.-])\b\d{6,}\b(?![/.-]\d)/g, (id: string) => takeId(id));

  text = normalizeSymbols(text);
  const tokens = text.split(" ").filter((token) => token.length > 0).map(normalizeToken);
  return { text: tokens.join(" "), quotedName, campaignId };
}

function expandContractions(text: string): string {
  return text
    .replace(/\b(how|what|where|who|when|why)'d\b/g, "$1 did")
    .replace(/n't\b/g, " not")
    .replace(/'re\b/g, " are")
    .replace(/'ve\b/g, " have")
    .replace(/'ll\b/g, " will")
    .replace(/'m\b/g, " am")
    .replace(/'d\b/g, " would")
    // The possessive stays a token: "last week's" (calendar) differs from "the last week" (rolling).
    .replace(/'s\b/g, " 's")
    .replace(/s'(?=\s|$)/g, "s");
}

function normalizeSymbols(text: string): string {
  return text
    .replace(/&/g, " and ")
    .replace(/\bw\//g, "with ")
    .replace(/(?<=[a-z])\s*[/+]\s*(?=[a-z])/g, " and ")
    .replace(/\$+(?!\s*\d)/g, " dollars ")
    .replace(/%/g, " percent ")
    .replace(/[\u2013\u2014]/g, " - ")
    .replace(/(?<=[a-z])-(?=[a-z])|(?<=\d)-(?=[a-z])|(?<=[a-z])-(?=\d)/g, " ")
    .replace(/(?<!\d)\.|\.(?!\d)/g, " ")
    .replace(/(?<!\d)\/|\/(?!\d)/g, " ")
    .replace(/'(?!s\b)/g, "")
    .replace(/[^a-z0-9\s'./\-\u2022]/g, " ")
    // Shorthand windows: "l7d", "last 30d", "past 2w", "last 3m".
    .replace(/\bl(\d+)d\b/g, "last $1 days")
    .replace(/\b(last|past|previous|prior|trailing)\s*(\d+)\s*d\b/g, "$1 $2 days")
    .replace(/\b(last|past|previous|prior|trailing)\s*(\d+)\s*w\b/g, "$1 $2 weeks")
    .replace(/\b(last|past|previous|prior|trailing)\s*(\d+)\s*m\b/g, "$1 $2 months")
    .replace(/\s+/g, " ")
    .trim();
}

/** Chat shorthand spelled out so the rules only need the long forms. */
const SHORTHANDS: Readonly<Record<string, string>> = {
  wk: "week",
  wks: "weeks",
  mo: "month",
  mos: "months",
  mth: "month",
  mths: "months",
  mnth: "month",
  yr: "year",
  yrs: "years",
  qtr: "quarter",
  qtrs: "quarters",
  hrs: "hours",
  hr: "hour",
  yday: "yesterday",
  yest: "yesterday",
  ytday: "yesterday",
  tdy: "today",
  "2day": "today",
  v: "vs",
  "vs.": "vs",
  thru: "through",
  tho: "though",
  u: "you",
  ur: "your",
  pls: "please",
  plz: "please",
  "1st": "first",
};

function normalizeToken(token: string): string {
  return SHORTHANDS[token] ?? correctTypo(token);
}

// ---------------------------------------------------------------------------
// Typo correction (optimal string alignment distance towards the domain vocabulary)

/** Words that are right as typed: every alias word, every target, every guard. */
const KNOWN_WORDS: ReadonlySet<string> = new Set([
  ...CORRECTION_TARGETS,
  ...CORRECTION_GUARDS,
  ...Object.values(METRIC_ALIASES).flat().flatMap((phrase) => phrase.split(" ")),
  ...Object.keys(PLATFORM_PHRASES).flatMap((phrase) => phrase.split(" ")),
]);

/** Memo of corrections: the same answer every time, computed once per distinct word. */
const correctionCache = new Map<string, string>();

/**
 * Corrects one misspelled word: five letters or more, same first letter, at most one
 * edit (two for targets of nine letters or more). Short words are left alone because
 * they sit too close to ordinary English ("cost"/"most", "meta"/"metal").
 */
function correctTypo(token: string): string {
  if (token.length < 5 || !/^[a-z]+$/.test(token) || KNOWN_WORDS.has(token)) return token;
  const cached = correctionCache.get(token);
  if (cached !== undefined) return cached;
  let best = token;
  let bestDistance = Infinity;
  for (const target of CORRECTION_TARGETS) {
    if (target[0] !== token[0]) continue;
    const allowed = target.length >= 9 ? 2 : 1;
    if (Math.abs(target.length - token.length) > allowed) continue;
    const distance = editDistance(token, target, allowed);
    if (distance <= allowed && distance < bestDistance) {
      best = target;
      bestDistance = distance;
    }
  }
  if (correctionCache.size < 10_000) correctionCache.set(token, best);
  return best;
}

/** Optimal string alignment distance (transpositions count once); stops early past `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  let previousPrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMinimum = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, previousPrevious[j - 2] + 1);
      }
      current.push(value);
      rowMinimum = Math.min(rowMinimum, value);
    }
    if (rowMinimum > limit) return rowMinimum;
    previousPrevious = previous;
    previous = current;
  }
  return previous[b.length];
}

// ---------------------------------------------------------------------------
// Campaign references

const CAMPAIGN_NOUN = String.raw`(?:campaigns?|ads?|ad sets?|adsets?|creatives?|one|launch(?:es)?)`;

const LATEST_PATTERNS: readonly RegExp[] = [
  new RegExp(
    String
      .raw`\b(?:the )?(?:latest|newest|most recent(?:ly)?(?: (?:launched|created|started|added))?|recently (?:launched|created|started|added)|last (?:launched|created|started|added)|just (?:launched|started)|newly (?:launched|created))\b(?=(?: \S+){0,3} ${CAMPAIGN_NOUN}\b)`,
    "g",
  ),
  /\b(?:last|latest|newest) (?:launched|created|started)\b/g,
  /\b(?:campaign|ad) (?:that )?(?:i|we) (?:launched|created|started|set up|ran) (?:most recently|last|latest|recently)\b/g,
  /\b(?:my|our|the) (?:last|new|brand new)(?= (?!(?:week|month|quarter|year|day|\d+)\b)(?:\S+ )?(?:campaign|ad)\b)/g,
];

/** Words that may surround a campaign name but are never part of it. */
const NAME_EDGE_WORDS = new Set(
  (
    "the my our your their a an this that these those for of on in from about with to at by is was are were " +
    "did does do how what which whats and or vs versus show me give get tell list 's s per each every any all " +
    "whole entire main current active running live paused new ad ads paid marketing performing performance " +
    "best worst top bottom highest lowest cheapest most least biggest single one latest newest last this " +
    "total overall much many stats numbers results report metrics kpis data spend expensive cheap " +
    "priciest costliest successful profitable popular underperforming good bad smallest largest " +
    "strongest weakest poorest leading winning losing least most fewest"
  ).split(" "),
);

/** Words that only say "when": a name made of these alone is a date, not a name. */
const DATE_WORDS = new Set(
  (
    "today yesterday tomorrow week weeks month months quarter quarters year years day days last past this " +
    "previous prior next current recent recently since q1 q2 q3 q4 ytd mtd qtd wtd january february march " +
    "april may june july august september october november december monday tuesday wednesday thursday " +
    "friday saturday sunday weekend daily weekly monthly"
  ).split(" "),
);

function extractCampaign(text: MaskedText, prepared: PreparedText): CampaignRef | null {
  if (prepared.campaignId) return { type: "id", value: prepared.campaignId };
  if (prepared.quotedName) return { type: "name", value: prepared.quotedName };
  let latest = false;
  for (const pattern of LATEST_PATTERNS) {
    text.scan(pattern, () => (latest = true));
  }
  const name = extractUnquotedName(text);
  if (name) return { type: "name", value: name };
  return latest ? { type: "latest" } : null;
}

/** "the <words> campaign" and "campaign called <words>". */
function extractUnquotedName(text: MaskedText): string | null {
  const called =
    /\bcampaign (?:named|called|titled|labeled|labelled) ([a-z0-9][a-z0-9 ]*?)(?= (?:on|in|for|during|from|since|over|last|this|yesterday|today|vs|and|with|between)\b|$|\s*\u2022)/
      .exec(text.value);
  if (called) {
    const words = called[1].trim();
    const start = called.index + called[0].length - called[1].length;
    text.mask(start, start + called[1].length);
    return words || null;
  }
  for (const match of text.value.matchAll(/\bcampaign\b/g)) {
    const name = nameBefore(text, match.index);
    if (name) return name;
  }
  return null;
}

function nameBefore(text: MaskedText, campaignIndex: number): string | null {
  const before = text.value.slice(0, campaignIndex);
  // The name runs back to the nearest determiner or preposition (or a masked part).
  const run = /(?:^|[\s\u2022])((?:[a-z0-9']+ ){1,6})$/.exec(before);
  if (!run) return null;
  const words = run[1].trim().split(" ");
  let first = 0;
  for (let index = words.length - 1; index >= 0; index--) {
    if (NAME_BOUNDARY_WORDS.has(words[index])) {
      first = index + 1;
      break;
    }
  }
  let last = words.length;
  while (first < last && isNameEdge(words[first])) first++;
  while (last > first && isNameEdge(words[last - 1])) last--;
  const nameWords = words.slice(first, last);
  if (nameWords.length === 0 || nameWords.every((word) => DATE_WORDS.has(word))) return null;
  const offset = before.length - run[1].length + words.slice(0, first).join(" ").length +
    (first > 0 ? 1 : 0);
  const name = nameWords.join(" ");
  text.mask(offset, offset + name.length);
  // Preparation split the possessive off ("mother 's day"); put it back for display.
  return name.replace(/ 's\b/g, "'s");
}

/** A name never crosses these: they start the phrase that holds it. */
const NAME_BOUNDARY_WORDS = new Set(
  (
    "the my our your their this that for of on in from about with to at by is was are were did does do how " +
    "what which whats show me give get tell list and or vs versus per each every any all a an i you we " +
    "they it can could would should will please pls create launch launched pause run ran has have had " +
    "been be see than then so just also into"
  ).split(" "),
);

function isNameEdge(word: string): boolean {
  return NAME_EDGE_WORDS.has(word) || PLATFORM_WORDS.has(word) || METRIC_WORDS.has(word) ||
    /^\d+$/.test(word) && word.length < 4;
}

// ---------------------------------------------------------------------------
// Calendar

type Unit = "day" | "week" | "month" | "quarter" | "year";

interface Span {
  readonly from: Date;
  readonly to: Date;
}

const WEEK_OPTIONS = { weekStartsOn: 1 } as const;

const zoneDateFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Today's calendar date as a local-midnight Date (date-fns works on local dates; we
 * only ever read the calendar fields back), in UTC unless a time zone is given.
 */
function calendarToday(now: Date, timeZone?: string): Date {
  if (!timeZone || timeZone.toUpperCase() === "UTC") {
    return new Date(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  }
  let formatter = zoneDateFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
    });
    zoneDateFormatters.set(timeZone, formatter);
  }
  const parts = Object.fromEntries(
    formatter.formatToParts(now).map((part) => [part.type, part.value]),
  );
  return new Date(Number(parts.year), Number(parts.month) - 1, Number(parts.day));
}

function unitStart(date: Date, unit: Unit): Date {
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

function unitLastDay(date: Date, unit: Unit): Date {
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

function addUnits(date: Date, unit: Unit, amount: number): Date {
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
function wholeUnit(date: Date, unit: Unit): Span {
  return { from: unitStart(date, unit), to: unitLastDay(date, unit) };
}

/** The unit so far: its first day to today. */
function unitToDate(today: Date, unit: Unit): Span {
  return { from: unitStart(today, unit), to: today };
}

/** "last N months": whole units, the N before the current one. */
function previousUnits(today: Date, unit: Unit, count: number): Span {
  return {
    from: unitStart(addUnits(today, unit, -count), unit),
    to: unitLastDay(addUnits(today, unit, -1), unit),
  };
}

/** "last N days": today − N to yesterday. */
function trailingDays(today: Date, days: number): Span {
  return { from: subDays(today, days), to: subDays(today, 1) };
}

/** A running period ends today. */
function clampToToday(span: Span, today: Date): Span {
  return span.from <= today && today < span.to ? { from: span.from, to: today } : span;
}

function daySpan(date: Date): Span {
  return { from: date, to: date };
}

function toDateRange(span: Span): DateRange {
  return { from: format(span.from, "yyyy-MM-dd"), to: format(span.to, "yyyy-MM-dd") };
}

function daysBetween(from: Date, to: Date): number {
  return Math.round(
    (Date.UTC(to.getFullYear(), to.getMonth(), to.getDate()) -
      Date.UTC(from.getFullYear(), from.getMonth(), from.getDate())) / 86_400_000,
  );
}

function validDay(year: number, month: number, day: number): Date | null {
  const date = new Date(year, month, day);
  return date.getMonth() === month && date.getDate() === day ? date : null;
}

// ---------------------------------------------------------------------------
// Date expressions

/** An explicit calendar point ("April 5", "March 2023"): its year can be fixed up in ranges. */
interface CalendarPoint {
  readonly month: number;
  readonly day: number | null;
  readonly year: number;
  readonly explicitYear: boolean;
}

/** "the previous week" / "the same period last year": resolved against the period before it. */
type Relative =
  | { readonly type: "previous"; readonly unit: Unit | "period"; readonly count: number | null }
  | { readonly type: "same"; readonly unit: Unit };

interface DateHit {
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

type HitDraft = Omit<DateHit, "start" | "end">;

const MONTHS: Readonly<Record<string, number>> = {
  january: 0,
  jan: 0,
  february: 1,
  feb: 1,
  march: 2,
  mar: 2,
  april: 3,
  apr: 3,
  may: 4,
  june: 5,
  jun: 5,
  july: 6,
  jul: 6,
  august: 7,
  aug: 7,
  september: 8,
  sept: 8,
  sep: 8,
  october: 9,
  oct: 9,
  november: 10,
  nov: 10,
  december: 11,
  dec: 11,
};
const MONTH = `(${Object.keys(MONTHS).join("|")})`;
/** Month words that are also ordinary words, only dates next to a number or a preposition. */
const AMBIGUOUS_MONTHS = new Set(["may", "mar", "jan", "sep", "oct", "nov", "dec", "aug", "jun"]);
const DAY = String.raw`(\d{1,2})(?:st|nd|rd|th)?`;
const YEAR = String.raw`((?:19|20)\d{2})`;
const COUNT_WORDS = Object.keys(NUMBER_WORDS).filter((word) => word !== "a" && word !== "an");
const COUNT = String.raw`(?:a )?(\d+|${COUNT_WORDS.join("|")})(?: of)?`;
const AGO_COUNT = String.raw`(\d+|${Object.keys(NUMBER_WORDS).join("|")})`;
const WEEKDAYS: Readonly<Record<string, number>> = {
  sunday: 0,
  sun: 0,
  monday: 1,
  mon: 1,
  tuesday: 2,
  tue: 2,
  tues: 2,
  wednesday: 3,
  wed: 3,
  thursday: 4,
  thu: 4,
  thur: 4,
  thurs: 4,
  friday: 5,
  fri: 5,
  saturday: 6,
  sat: 6,
};
const DATE_PREPOSITION =
  /\b(?:in|during|for|of|since|from|through|until|till|to|between|and|over|throughout|on|by|starting|after|before)\s*$/;

function countOf(word: string): number {
  return /^\d+$/.test(word) ? Number(word) : NUMBER_WORDS[word] ?? 1;
}

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

function pointSpan(point: CalendarPoint, today: Date): Span | null {
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

/** "last N <unit>s" per the contract's table. */
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

interface DateRule {
  readonly pattern: RegExp;
  readonly read: (match: RegExpExecArray, today: Date, text: string) => HitDraft | null;
}

function period(span: Span | null, unit: Unit | null, joinable = false): HitDraft | null {
  return span ? { span, unit, joinable } : null;
}

/** Ordered: longer and more specific expressions first, since each masks what it reads. */
const DATE_RULES: readonly DateRule[] = [
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
        .raw`\b(?:the )?(first|second|third|fourth|last|final) week (?:of|in) ${MONTH}(?: ${YEAR})?\b`,
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
        .raw`\b(?:the )?(?:previous|prior|preceding) ${COUNT} (days?|weeks?|months?|quarters?|years?)\b`,
      "g",
    ),
    read: ([, count, unitWord], today) => ({
      span: lastCount(countOf(count), unitWord, today),
      unit: null,
      joinable: false,
      relative: {
        type: "previous",
        unit: unitOf(unitWord) === "fortnight" ? "week" : unitOf(unitWord) as Unit,
        count: countOf(count) * (unitOf(unitWord) === "fortnight" ? 2 : 1),
      },
    }),
  },
  {
    // the previous week / the week before / the prior period / the previous one
    pattern:
      /\b(?:(?:the )?(?:previous|prior|preceding) (day|week|month|quarter|year|period|one|time period)|the (day|week|month|quarter|year|period|one) (?:before|prior|earlier)|the (?:period|one) before)\b/g,
    read: ([, first, second], today) => {
      const word = first ?? second ?? "period";
      const unit: Unit | "period" = word === "one" || word === "time period"
        ? "period"
        : word as Unit | "period";
      return {
        span: unit === "period" ? null : previousUnits(today, unit, 1),
        unit: unit === "period" ? null : unit,
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
        .raw`\b(?:q([1-4])|(first|second|third|fourth) quarter)(?: (?:of )?${YEAR})?\b|\b${YEAR} q([1-4])\b`,
      "g",
    ),
    read: ([, q, ordinal, year, yearFirst, qAfter], today) => {
      const quarter = q ? Number(q) : qAfter ? Number(qAfter) : ORDINALS[ordinal];
      return period(quarterSpan(quarter, year ?? yearFirst, today), "quarter", true);
    },
  },
  {
    pattern: new RegExp(String.raw`\b(?:h([12])|(first|second) half)(?: (?:of )?${YEAR})?\b`, "g"),
    read: ([, h, ordinal, year], today) =>
      period(halfSpan(h ? Number(h) : ORDINALS[ordinal], year, today), null, true),
  },
  {
    // in March, March 2023, since april
    pattern: new RegExp(String.raw`\b${MONTH}(?: (?:of )?${YEAR})?\b`, "g"),
    read: (match, today, text) => {
      const [, month, year] = match;
      const guarded = AMBIGUOUS_MONTHS.has(month) && !year &&
        !DATE_PREPOSITION.test(text.slice(0, match.index));
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
const ORDINALS: Readonly<Record<string, number>> = { first: 1, second: 2, third: 3, fourth: 4 };

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

interface DateFinding {
  readonly range: Span | null;
  readonly compareTo: Span | null;
  /** How many time expressions were said (after joining ranges). */
  readonly count: number;
}

function extractDates(text: MaskedText, today: Date): DateFinding {
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
  const joined = joinRanges(hits, text.value, today);
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
        (between !== "and" || /\bbetween\s*$/.test(before));
      if (isRange) {
        const [from, to] = alignYears(hit, next, today);
        if (from && to && from.from <= to.to) {
          result.push({ ...hit, end: next.end, span: { from: from.from, to: to.to }, unit: null });
          index++;
          continue;
        }
      }
      // "yesterday and today": adjacent days read as one stretch, not as two to compare.
      if (between === "and" && areAdjacent(hit.span, next.span)) {
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

function areAdjacent(a: Span, b: Span): boolean {
  return daysBetween(a.to, b.from) === 1 || daysBetween(b.to, a.from) === 1;
}

/** In "Dec 15 to Jan 10" or "March 1 to May 1" the implicit years must make an ordered range. */
function alignYears(first: DateHit, second: DateHit, today: Date): [Span | null, Span | null] {
  const a = first.point;
  const b = second.point;
  if (!a || !b || a.explicitYear === b.explicitYear) return [first.span, second.span];
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
    const overPeriod = periodOverPeriod(text, periods[0] ?? null, hits[0]?.unit ?? null, today);
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
    if (relative.unit === "period") return null;
    return {
      from: unitStart(addUnits(base.from, relative.unit, -relative.count), relative.unit),
      to: subDays(base.from, 1),
    };
  }
  const unit = relative.unit === "period" ? anchor.unit : relative.unit;
  if (unit && unit !== "day" || unit === "day" && daysBetween(base.from, base.to) === 0) {
    return wholeUnit(addUnits(unitStart(base.from, unit), unit, -1), unit);
  }
  // Any other period: the same number of days just before it.
  const length = daysBetween(base.from, base.to) + 1;
  return { from: subDays(base.from, length), to: subDays(base.from, 1) };
}

/** "week over week", "MoM", "YoY": this period against the previous one. */
function periodOverPeriod(
  text: string,
  range: Span | null,
  unit: Unit | null,
  today: Date,
): Span[] | null {
  const match =
    /\b(?:(day|week|month|quarter|year) (?:over|on|vs) (?:the )?(?:previous |prior )?\1|(dod|wow|mom|qoq|yoy))\b/
      .exec(text);
  if (!match) return null;
  const said = (match[1] ?? OVER_PERIOD_SHORT[match[2]]) as Unit;
  if (range === null) {
    return [unitToDate(today, said), previousUnits(today, said, 1)];
  }
  if (unit === said) return [range, wholeUnit(addUnits(range.from, said, -1), said)];
  if (said === "year") {
    return [range, { from: addYears(range.from, -1), to: addYears(range.to, -1) }];
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

// ---------------------------------------------------------------------------
// Platforms and metrics

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function alternation(phrases: Iterable<string>): string {
  return [...phrases].sort((a, b) => b.length - a.length || a.localeCompare(b)).map(escapeRegExp)
    .join("|");
}

const PLATFORM_PATTERN = new RegExp(`\\b(${alternation(Object.keys(PLATFORM_PHRASES))})\\b`, "g");
const PLATFORM_WORDS = new Set(
  Object.keys(PLATFORM_PHRASES).flatMap((phrase) => phrase.split(" ")),
);

function extractPlatforms(text: MaskedText): Platform[] {
  const found: Platform[] = [];
  text.scan(PLATFORM_PATTERN, (match) => {
    const platform = PLATFORM_PHRASES[match[1]];
    if (!found.includes(platform)) found.push(platform);
    return true;
  });
  return found;
}

const METRIC_BY_ALIAS = new Map<string, BotMetric>(
  Object.entries(METRIC_ALIASES).flatMap(([metric, aliases]) =>
    aliases.map((alias) => [alias, metric as BotMetric] as const)
  ),
);
const METRIC_WORDS = new Set([...METRIC_BY_ALIAS.keys()].flatMap((alias) => alias.split(" ")));
const METRIC_PATTERN = new RegExp(`\\b(${alternation(METRIC_BY_ALIAS.keys())})(?:s|es)?\\b`, "g");
const COST_UNIT = `(${alternation(Object.keys(COST_PER_UNITS))})`;
const COST_PER_PATTERN = new RegExp(
  String.raw`\b(?:${
    COST_PER_LEADS.join("|")
  })(?: us)? (?:per|a|an|each|for each|for every|for one|for a|of a|of an|of one|on each|every|by) ${COST_UNIT}s?\b`,
  "g",
);
const COST_PER_REVERSED_PATTERN = new RegExp(
  String
    .raw`\b(?:each|every|per|a|an|one|the average) ${COST_UNIT}s? (?:costs?|cost us|run|runs|set us back)\b`,
  "g",
);
const MONEY_PATTERN = /\b(?:money|dollars|cash|bucks|euros|pounds)\b/g;
const REVENUE_VERBS =
  /\b(?:make|made|making|earn|earned|earning|bring in|brought in|bringing in|generate|generated|generating|gross|grossed|return|returned)\b/;

interface FoundMetric {
  readonly metric: BotMetric;
  readonly at: number;
}

function extractMetrics(text: MaskedText): BotMetric[] {
  const found: FoundMetric[] = [];
  const note = (metric: BotMetric, at: number) => {
    found.push({ metric, at });
    return true;
  };
  const original = text.value;
  text.scan(COST_PER_PATTERN, (match) => note(COST_PER_UNITS[match[1]], match.index));
  text.scan(COST_PER_REVERSED_PATTERN, (match) => note(COST_PER_UNITS[match[1]], match.index));
  text.scan(METRIC_PATTERN, (match) => note(METRIC_BY_ALIAS.get(match[1])!, match.index));
  const earning = REVENUE_VERBS.test(original);
  text.scan(MONEY_PATTERN, (match) => note(earning ? "revenue" : "spend", match.index));

  if (found.length === 0) {
    const implied = impliedMetric(original, earning);
    if (implied) found.push({ metric: implied, at: 0 });
  }
  const metrics = unique(found.sort((a, b) => a.at - b.at).map((entry) => entry.metric));
  return priceCountMetrics(metrics, original);
}

/** Questions that name no metric but clearly ask for one: "how much did we make". */
function impliedMetric(text: string, earning: boolean): BotMetric | null {
  if (/\bhow much\b/.test(text)) return earning ? "revenue" : "spend";
  if (/\bhow many (?:people |users |times |folks )?(?:saw|seen|see|viewed)\b/.test(text)) {
    return "impressions";
  }
  return null;
}

/** "cheapest clicks" asks for cpc, not clicks; likewise conversions → cpa, impressions → cpm. */
function priceCountMetrics(metrics: BotMetric[], text: string): BotMetric[] {
  if (
    !/\b(?:cheap|cheaper|cheapest|expensive|pricey|pricier|priciest|costly|costliest)\b/.test(text)
  ) {
    return metrics;
  }
  // "the most expensive campaign" ranks by what it cost.
  if (metrics.length === 0) return ["spend"];
  const priced: Partial<Record<BotMetric, BotMetric>> = {
    clicks: "cpc",
    conversions: "cpa",
    impressions: "cpm",
  };
  return unique(metrics.map((metric) => priced[metric] ?? metric));
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

// ---------------------------------------------------------------------------
// Intent

interface Signals {
  /** The prepared text with campaign references, dates, platforms and metrics masked. */
  readonly text: string;
  /** The prepared text before masking, for cues that must see every word. */
  readonly plain: string;
  readonly campaign: CampaignRef | null;
  readonly dates: DateFinding;
  readonly platforms: readonly Platform[];
  readonly metrics: readonly BotMetric[];
}

const OFF_TOPIC =
  /\b(?:weather|forecast|rain|snow|temperature|jokes?|poem|song|sing|recipe|cook|cooking|translate|capital of|who (?:won|is|was|owns|invented|founded|created)|stock price|share price|stocks?|bitcoin|crypto|meaning of life|time is it|your name|who are you|how are you|horoscope|essay|movies?|pizza|dinner|lunch|breakfast|flights?|hotels?|football|soccer|basketball|baseball|nba|nfl|president|election)\b/;
const HOW_TO =
  /\bhow (?:do|can|could|should|would) (?:i|we|you)\b(?! (?:see|check|find|get|view|look))|\bhow to\b/;
/** Requests to do or write something: the bot reads numbers, it does not act or draft copy. */
const ACTION_REQUEST =
  /^(?:(?:please|pls|can you|could you|would you|help me|i want to|i need to|let 's|lets)\s+)*(?:pause|unpause|stop|launch|turn (?:off|on)|increase|decrease|raise|delete|remove|cancel|enable|disable|duplicate|schedule|create|set up|setup|write|draft|compose|brainstorm|design|optimi[sz]e|fix|edit|rename)\b/;
const ADVICE = /\b(?:should|shall) (?:i|we)\b|\b(?:advice|tips?|recommend\w*|suggest\w*)\b/;
const DOMAIN_WORDS =
  /\b(?:campaigns?|ads?|adverts?|advertising|ad sets?|adsets?|ad groups?|creatives?|platforms?|channels?|networks?|performance|performing|perform|performed|performs|results|stats|statistics|numbers|kpis?|metrics|report|reporting|dashboard|analytics|marketing|paid social|paid search|accounts?)\b/;
const ENTITY_WORDS = /\b(?:campaigns?|ads|ad sets?|adsets?|ad groups?|creatives?|adverts?)\b/;
/** "what are we running on linkedin": a list question even without the word "campaigns". */
const RUNNING_QUESTION =
  /\b(?:what|which|anything)\b(?:(?! how\b).)*\b(?:running|live|active|launched|paused)\b/;
const LIST_CUES =
  /\b(?:list|lists|listing|show|display|which|what|any|running|run|ran|live|active|enabled|launched|started|created|new|exist|exists|existing|have|got|paused|names?|all|current|currently|ongoing|available|going on|do we have|set up)\b/;
const PERFORMANCE_CUES =
  /\bhow\b(?! many)|\b(?:doing|done|perform\w*|results?|stats|statistics|numbers|going(?! on)|look|looking|looked|went|report|summary|overview|kpis?|metrics|data|fare|fared|well|good|bad|badly)\b/;
const RANK_CUES =
  /\b(?:best|worst|top|bottom|highest|lowest|most|least|fewest|biggest|largest|smallest|greatest|cheapest|priciest|costliest|leading|strongest|weakest|poorest|max|maximum|min|minimum|rank|ranked|ranking|rankings|leaderboard|sort|sorted|order by|ordered by|underperform\w*|outperform\w*|winners?|losers?|most expensive|least expensive)\b/;
const COMPARATIVES = /\b(?:more|fewer|less|better|worse|higher|lower|cheaper|pricier)\b/;
const EXPLICIT_COMPARE =
  /\b(?:compare|compared|comparing|comparison|vs|versus|against|side by side|head to head|difference between|differences between|relative to|stack up|stacks up|stack against)\b/;
const ACROSS_PLATFORMS =
  /\b(?:compare|comparing|across|between|among|amongst|by|per|each|every|for each|split by|broken down by|breakdown by|break down by|breakdown of|vs)\s+(?:(?:all|the|my|our|each|every|different|various|\d|four)\s+)*(?:platforms?|channels?|networks?)\b/;
const ACROSS_CAMPAIGNS =
  /\b(?:compare|comparing|across|between|among|amongst|by|per|each|every|for each|split by|broken down by|breakdown by|break down by)\s+(?:(?:all|the|my|our|each|every|different|various)\s+)*(?:campaigns?|ads?)\b/;
/** "by platform", "per campaign": a breakdown, even of a total. */
const BREAKDOWN =
  /\b(?:by|per|each|every|for each|split by|broken down by|breakdown by|break down by|breakdown of)\s+(?:platforms?|channels?|networks?|campaigns?)\b/;
/** "total spend across all platforms" sums them rather than setting them side by side. */
const TOTAL_WORDS =
  /\b(?:total|overall|combined|altogether|in sum|summed|sum of|aggregate|average|avg|mean)\b/;
const ALL_PLATFORMS =
  /\b(?:across|on|for|over|of) all (?:(?:my|our|the|of the|of my|4|four) )?(?:platforms|channels|networks|campaigns|ads)\b/;
const TREND_CUES =
  /\b(?:trends?|trending|trendline|over time|time series|timeseries|daily|weekly|monthly|day by day|week by week|month by month|by day|by week|by month|per day|per week|per month|each day|each week|each month|every day|every week|every month|day to day|week to week|month to month|chart|charts|graph|graphs|plot|timeline|history|historical|evolution|evolved?|evolving|progress|progression|trajectory|changed?|changing|fluctuat\w*|over the (?:days|weeks|months))\b/;
const FIRST_PERSON = /\b(?:we|i|our|us|my|me|things|everything|business)\b/;
const PERFORMANCE_VERBS =
  /\bhow\b|\b(?:do|did|doing|done|go|going|went|perform\w*|look|looking|looked|fare|fared|results?|numbers)\b/;

/** Labeled example phrasings, vectorized once at module load. */
const intentExamples = new VectorIndex<Intent>().addAll(
  Object.entries(INTENT_EXAMPLES).flatMap(([intent, examples]) =>
    examples.map((example, index) => ({
      id: `${intent}-${index}`,
      text: example,
      payload: intent as Intent,
    }))
  ),
);

/**
 * Below this cosine the nearest example is no evidence at all: greetings and small
 * talk share little with performance questions, so a weak match means "unknown".
 */
const EXAMPLE_MATCH_THRESHOLD = 0.45;

function classifyIntent(signals: Signals): Intent {
  const { text, plain, metrics, platforms, campaign, dates } = signals;
  if (OFF_TOPIC.test(text) && metrics.length === 0) return "unknown";
  if ((HOW_TO.test(plain) || ACTION_REQUEST.test(plain)) && dates.count === 0) return "unknown";
  if (ADVICE.test(text) && dates.count === 0 && campaign === null && metrics.length === 0) {
    return "unknown";
  }
  const domain = metrics.length > 0 || platforms.length > 0 || campaign !== null ||
    DOMAIN_WORDS.test(text);
  if (!domain) return intentWithoutDomainWords(signals);

  if (isListQuestion(signals)) return "list_campaigns";
  if (dates.compareTo) return "compare";
  if (platforms.length >= 2 && (EXPLICIT_COMPARE.test(text) || COMPARATIVES.test(text))) {
    return "compare";
  }
  if (isRankQuestion(text)) return "rank";
  if (BREAKDOWN.test(text)) return "compare";
  if (TOTAL_WORDS.test(text) || ALL_PLATFORMS.test(text) && !EXPLICIT_COMPARE.test(text)) {
    // "average daily spend" is one number; "total spend over time" is a series.
    return TREND_CUES.test(text) && !/\b(?:average|avg|mean)\b/.test(text) ? "trend" : "metric";
  }
  if (ACROSS_PLATFORMS.test(text) || ACROSS_CAMPAIGNS.test(text)) return "compare";
  // "clicks vs impressions" sets metrics side by side: one query with both.
  if (EXPLICIT_COMPARE.test(text) && !(metrics.length >= 2 && platforms.length < 2)) {
    return "compare";
  }
  if (TREND_CUES.test(text)) return "trend";
  return "metric";
}

/** No ad words at all: a performance question about "we"/"things" with a date, or an example match. */
function intentWithoutDomainWords({ text, dates }: Signals): Intent {
  if (dates.compareTo && EXPLICIT_COMPARE.test(text)) return "compare";
  if (dates.count > 0 && FIRST_PERSON.test(text) && PERFORMANCE_VERBS.test(text)) {
    return dates.compareTo ? "compare" : "metric";
  }
  const [best] = intentExamples.searchSync(text.replaceAll(MASK, " "), 1);
  return best && best.score >= EXAMPLE_MATCH_THRESHOLD ? best.payload : "unknown";
}

function isListQuestion({ text, metrics, campaign, dates }: Signals): boolean {
  if (metrics.length > 0 || campaign !== null) return false;
  if (!ENTITY_WORDS.test(text)) return RUNNING_QUESTION.test(text);
  if (/\bhow many (?:\w+ )?(?:campaigns|ads)\b/.test(text)) return true;
  if (RANK_CUES.test(text) || PERFORMANCE_CUES.test(text)) return false;
  return LIST_CUES.test(text) || dates.count === 0;
}

function isRankQuestion(text: string): boolean {
  if (RANK_CUES.test(text)) return true;
  // "which campaign got more clicks", "which ads did well" rank too.
  return (COMPARATIVES.test(text) || QUALITY_WORDS.test(text)) &&
    /\b(?:which|what)\b/.test(text) &&
    /\b(?:campaigns?|platforms?|channels?|ads?|networks?)\b/.test(text);
}

// ---------------------------------------------------------------------------
// Assembly

function assembleQuery(intent: Intent, signals: Signals): ParsedQuery {
  const { text, metrics, platforms, campaign, dates } = signals;
  const query: ParsedQuery = {
    intent,
    metrics: [...metrics],
    platforms: [...platforms],
    date_range: dates.range ? toDateRange(dates.range) : null,
    compare_to: null,
    campaign,
    group_by: null,
    order: null,
    limit: null,
  };
  if (intent === "compare") {
    if (dates.compareTo) query.compare_to = toDateRange(dates.compareTo);
    else query.group_by = compareDimension(text);
  } else if (intent === "rank") {
    query.group_by = rankDimension(text);
    query.order = rankOrder(text, metrics);
    query.limit = rankLimit(text);
  } else if (intent === "trend") {
    query.group_by = trendGranularity(text);
  }
  return query;
}

function compareDimension(text: string): GroupBy {
  return ACROSS_CAMPAIGNS.test(text) && !ACROSS_PLATFORMS.test(text) ? "campaign" : "platform";
}

function rankDimension(text: string): GroupBy {
  const platformWord = /\b(?:platforms?|channels?|networks?|sources?)\b|\bwhere\b/.exec(text);
  const campaignWord =
    /\b(?:campaigns?|ads?(?! (?:platforms?|networks?|channels?|accounts?))|ad sets?|adsets?|creatives?)\b/
      .exec(text);
  if (platformWord && (!campaignWord || platformWord.index < campaignWord.index)) return "platform";
  return "campaign";
}

const QUALITY_WORDS = /\b(?:well|good|great|strong|poorly|badly|bad|weak)\b/;
const BEST_WORDS =
  /\b(?:best|better|strongest|top perform\w*|best perform\w*|outperform\w*|winners?|most profitable|well|good|great|strong)\b/;
const WORST_WORDS =
  /\b(?:worst|worse|weakest|poorest|underperform\w*|worst perform\w*|bottom perform\w*|losers?|least profitable|poorly|badly|bad|weak)\b/;
const DESCENDING_WORDS =
  /\b(?:highest|top|most|biggest|largest|greatest|max|maximum|priciest|costliest|most expensive|leading|leaders?|more|higher)\b/;
const ASCENDING_WORDS =
  /\b(?:lowest|least|fewest|smallest|cheapest|bottom|min|minimum|least expensive|less|fewer|lower|cheaper)\b/;

/** "best"/"worst" follow the metric's direction; plain "highest"/"lowest" do not. */
function rankOrder(text: string, metrics: readonly BotMetric[]): SortOrder {
  const lowerIsBetter = metrics.length > 0 && LOWER_IS_BETTER.has(metrics[0]);
  const best = BEST_WORDS.exec(text);
  const worst = WORST_WORDS.exec(text);
  if (best || worst) {
    const saysBest = best !== null && (worst === null || best.index < worst.index);
    return saysBest === lowerIsBetter ? "asc" : "desc";
  }
  const descending = DESCENDING_WORDS.exec(text);
  const ascending = ASCENDING_WORDS.exec(text);
  if (ascending && (!descending || ascending.index < descending.index)) return "asc";
  return "desc";
}

const LIMIT_WORDS = `(\\d+|${COUNT_WORDS.join("|")})`;
const LIMIT_BEFORE_NUMBER = new RegExp(
  String
    .raw`\b(?:top|bottom|best|worst|highest|lowest|first|leading|cheapest|biggest)\s+${LIMIT_WORDS}\b`,
);
const LIMIT_AFTER_NUMBER = new RegExp(
  String
    .raw`\b${LIMIT_WORDS}\s+(?:best|worst|top|bottom|highest|lowest|most|least|cheapest|biggest|leading|strongest|weakest|(?:\S+\s+)?(?:campaigns|platforms|channels|ads|ad sets|networks|creatives))\b`,
);
const ENTITY_NOUNS =
  /\b(campaigns?|platforms?|channels?|networks?|ads?|ad sets?|creatives?|ones?|performers?|winners?|losers?|sources?)\b/;

/** The number said ("top 3"), else 1 for a singular question and 5 for a plural one. */
function rankLimit(text: string): number {
  const said = LIMIT_BEFORE_NUMBER.exec(text) ?? LIMIT_AFTER_NUMBER.exec(text);
  if (said) {
    const count = countOf(said[1]);
    if (count > 0) return count;
  }
  const noun = ENTITY_NOUNS.exec(text);
  if (!noun) return 1;
  return /s$/.test(noun[1]) ? 5 : 1;
}

function trendGranularity(text: string): GroupBy {
  if (
    /\b(?:weekly|week by week|by week|per week|each week|every week|week to week|week over week|wow|by the week)\b/
      .test(text)
  ) {
    return "week";
  }
  if (
    /\b(?:monthly|month by month|by month|per month|each month|every month|month to month|month over month|mom|by the month)\b/
      .test(text)
  ) {
    return "month";
  }
  return "day";
}
