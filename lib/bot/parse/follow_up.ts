/**
 * Follow-up questions: "and for Meta?", "what about last month", "top 3 instead",
 * "compare with the week before". A follow-up names only some slots; the answer is the
 * conversation's previous query with those slots replaced (contract, "Follow-ups").
 */
import type { BotMetric, GroupBy, ParsedQuery, SortOrder } from "../query.ts";
import { lowerIsBetter } from "../query.ts";
import {
  addUnits,
  isWholeUnit,
  periodBefore,
  type Span,
  toDateRange,
  toSpan,
  type Unit,
  unitStart,
  wholeUnit,
} from "./calendar.ts";
import { extractDates } from "./dates.ts";
import type { Signals } from "./intent.ts";
import { MASK, MaskedText } from "./masked_text.ts";
import { COUNT_WORDS, countOf } from "./text.ts";

const COUNT = `(\\d+|${COUNT_WORDS.join("|")})`;

/** Words a follow-up opens with: it leans on the question before it. */
const OPENER = new RegExp(
  String
    .raw`^(?:(?:ok|okay|k|kk|cool|great|nice|thanks|thank you|thx|ty|ta|cheers|lovely|brilliant|awesome|sweet|sure|yes|yeah|yep|right|alright|got it|perfect|hmm|hm|so|oh|and|but)\s+)*(?:and|also|plus|what about|how about|what of|same|only|just|now|instead|vs|versus|compared? (?:with|to)|against|break (?:that|it|this|those) down|split (?:that|it|this|those)|as a trend|then|ditto)\b`,
);

/** Words that may sit around the slots of a follow-up without making it a new question. */
const FILLER = new Set(
  (
    "for in on at of the a an please thanks thx ty ok okay cool great nice then again too as well " +
    "instead also and plus just only same but now what about how vs versus compared compare to with " +
    "against by day days week weeks month months platform platforms channel channels network networks " +
    "campaign campaigns ads daily weekly monthly trend trends trendline top bottom best worst highest " +
    "lowest including it that this those them over time break down split previous period prior " +
    "preceding before one ones there here or so thing same all each per rather show me see hmm lol " +
    "breakdown instead either too cheapest priciest most expensive far yet chart charts graph plot timeline line give let view figures " +
    "number numbers sort sorted rank ranked order ordered can could would you do i like want " +
    "let 's us"
  ).split(" "),
);

const TREND_GROUP =
  /\b(?:(?:by|per|each|every) (day|week|month)|(daily|weekly|monthly)|(?:day|week|month) by (day|week|month))\b|\b(?:trend|trends|trendline|over time|time series|chart|graph|plot)\b/;
const PLATFORM_GROUP =
  /\b(?:by|per|across|each|every|split by|broken down by|break (?:that |it |this )?down by|breakdown by) (?:the )?(?:platforms?|channels?|networks?)\b/;
const CAMPAIGN_GROUP =
  /\b(?:by|per|across|each|every|split by|broken down by|break (?:that |it |this )?down by|breakdown by) (?:the )?(?:campaigns?|ads?|ad sets?|ad groups?)\b/;
const RANK_WORD = new RegExp(
  String
    .raw`\b(top|bottom|best|worst|highest|lowest|cheapest|priciest|most expensive)(?: ${COUNT})?\b`,
);
const COUNT_INSTEAD = new RegExp(String.raw`\b${COUNT} instead\b`);
/** "compare with the previous period", "vs the week before", "vs prior month". */
const PREVIOUS_PERIOD =
  /\b(?:the )?(?:previous|prior|preceding) (period|time period|day|week|month|quarter|year)\b|\b(?:the )?(day|week|month|quarter|year|period) before\b/;
const VERSUS_OPENER =
  /^(?:(?:and|so|ok|okay|now)\s+)*(?:vs|versus|compared? (?:with|to)|against)\b/;
const ADD_METRIC =
  /^(?:(?:ok|okay|cool|great|nice|thanks)\s+)*(?:and|also|plus)\b|\b(?:also|as well|too)\b/;
const ADD_PLATFORM = /\b(?:also|too|as well|plus|including|add)\b/;
const ALL_CAMPAIGNS = /\b(?:all|every|any) (?:of )?(?:the |my |our )?campaigns?\b|\ball of them\b/;

/** The slots and cues a prompt names, read once for both questions below. */
interface FollowUpCues {
  readonly trend: GroupBy | null;
  readonly byPlatform: boolean;
  readonly byCampaign: boolean;
  readonly rank: { readonly word: string | null; readonly count: number | null } | null;
  readonly previousPeriod: string | null;
  readonly allCampaigns: boolean;
}

function readCues(plain: string): FollowUpCues {
  const trend = TREND_GROUP.exec(plain);
  const rankWord = RANK_WORD.exec(plain);
  const instead = COUNT_INSTEAD.exec(plain);
  const previous = PREVIOUS_PERIOD.exec(plain);
  return {
    trend: trend ? granularity(trend[1] ?? trend[2] ?? trend[3]) : null,
    byPlatform: PLATFORM_GROUP.test(plain),
    byCampaign: CAMPAIGN_GROUP.test(plain),
    rank: rankWord
      ? { word: rankWord[1], count: rankWord[2] ? countOf(rankWord[2]) : null }
      : instead
      ? { word: null, count: countOf(instead[1]) }
      : null,
    previousPeriod: previous ? previous[1] ?? previous[2] : null,
    allCampaigns: ALL_CAMPAIGNS.test(plain),
  };
}

function granularity(word: string | undefined): GroupBy {
  if (word === "week" || word === "weekly") return "week";
  if (word === "month" || word === "monthly") return "month";
  return "day";
}

/**
 * A follow-up opens with a follow-up word or holds nothing but slot words and filler,
 * and names at least one slot. Anything else is a question of its own.
 */
export function isFollowUp(signals: Signals): boolean {
  const cues = readCues(signals.plain);
  const namesSlot = signals.metrics.length > 0 || signals.platforms.length > 0 ||
    signals.campaign !== null || signals.dates.count > 0 || signals.currency !== null ||
    cues.trend !== null || cues.byPlatform || cues.byCampaign || cues.rank !== null ||
    cues.previousPeriod !== null || cues.allCampaigns;
  if (!namesSlot) return false;
  return OPENER.test(signals.plain) || holdsOnlySlots(signals);
}

/** Nothing but slot words (masked by the rules) and filler. */
export function holdsOnlySlots(signals: Signals): boolean {
  return signals.text.replaceAll(MASK, " ").split(" ").every((word) =>
    word === "" || FILLER.has(word) || /^\d+$/.test(word) || COUNT_WORDS.includes(word)
  );
}

/** `previous` with the slots the follow-up names replaced. */
export function applyFollowUp(previous: ParsedQuery, signals: Signals): ParsedQuery {
  const { plain } = signals;
  const cues = readCues(plain);
  const query: ParsedQuery = {
    ...previous,
    metrics: [...previous.metrics],
    platforms: [...previous.platforms],
    // A previous query from before `currency` existed keeps the stored currencies.
    currency: previous.currency ?? null,
  };
  if (query.intent === "explain" && (signals.platforms.length > 0 || signals.dates.count > 0)) {
    query.intent = "metric";
  }
  // "and the cheapest?" names a direction, not spend: price words imply spend only on their own.
  const impliedSpendOnly = signals.metrics.length === 1 && signals.metrics[0] === "spend" &&
    !/\b(?:spend|spent|spending|cost|costs|budget|money)\b/.test(plain);
  if (!impliedSpendOnly || previous.metrics.length === 0) {
    applyMetrics(query, previous, signals, ADD_METRIC.test(plain) && previous.intent !== "explain");
  }
  applyPlatforms(query, signals, ADD_PLATFORM.test(plain) || VERSUS_OPENER.test(plain));
  if (signals.campaign) query.campaign = signals.campaign;
  else if (cues.allCampaigns) query.campaign = null;
  if (signals.currency) query.currency = signals.currency;
  applyDates(query, previous, signals, cues);
  applyGrouping(query, previous, cues);
  if (VERSUS_OPENER.test(plain) && signals.platforms.length > 0 && signals.dates.count === 0) {
    query.intent = "compare";
    query.group_by = "platform";
    query.compare_to = null;
  }
  return query;
}

function applyMetrics(
  query: ParsedQuery,
  previous: ParsedQuery,
  signals: Signals,
  add: boolean,
): void {
  if (signals.metrics.length === 0) return;
  query.metrics = add ? [...new Set([...previous.metrics, ...signals.metrics])] : [
    ...signals.metrics,
  ];
  // A ranking keeps its meaning when its metric changes: best stays best.
  if (previous.intent === "rank" && previous.order && previous.metrics.length > 0) {
    const wasBest = previous.order === bestOrder(previous.metrics[0]);
    query.order = wasBest ? bestOrder(query.metrics[0]) : worstOrder(query.metrics[0]);
  }
}

function applyPlatforms(query: ParsedQuery, signals: Signals, add: boolean): void {
  if (signals.platforms.length === 0) return;
  query.platforms = add && query.platforms.length > 0
    ? [...new Set([...query.platforms, ...signals.platforms])]
    : [...signals.platforms];
}

function applyDates(
  query: ParsedQuery,
  previous: ParsedQuery,
  signals: Signals,
  cues: FollowUpCues,
): void {
  if (cues.previousPeriod) {
    // The period words compare; any other date said replaces the range first.
    const other = datesWithout(signals, PREVIOUS_PERIOD);
    if (other.range) query.date_range = toDateRange(other.range);
    query.intent = "compare";
    query.group_by = null;
    query.order = null;
    query.limit = null;
    query.compare_to = query.date_range
      ? toDateRange(periodBeforeAs(toSpan(query.date_range), cues.previousPeriod))
      : null;
    return;
  }
  const { range, compareTo } = signals.dates;
  if (!range) return;
  if (VERSUS_OPENER.test(signals.plain) && previous.date_range) {
    comparePeriods(query, toDateRange(compareTo ?? range));
    return;
  }
  query.date_range = toDateRange(range);
  if (compareTo) comparePeriods(query, toDateRange(compareTo));
  else if (previous.compare_to) {
    query.compare_to = toDateRange(periodBefore(range));
  }
}

/** A period comparison: the range against `compareTo`, no grouping or ranking. */
function comparePeriods(query: ParsedQuery, compareTo: ParsedQuery["compare_to"]): void {
  Object.assign(query, { intent: "compare", compare_to: compareTo, group_by: null });
  query.order = null;
  query.limit = null;
}

/** The dates of the prompt read again with the words of `pattern` left out. */
function datesWithout(signals: Signals, pattern: RegExp) {
  const text = new MaskedText(signals.plain.replace(pattern, " "));
  return extractDates(text, signals.today);
}

/**
 * "the week before" a whole week is the week before it; on a range that is not a whole
 * week (or month …) it means the period of equal length right before.
 */
function periodBeforeAs(span: Span, word: string): Span {
  const unit = word === "period" || word === "time period" ? null : word as Unit;
  if (unit && unit !== "day" && isWholeUnit(span, unit)) {
    return wholeUnit(addUnits(unitStart(span.from, unit), unit, -1), unit);
  }
  return periodBefore(span);
}

function applyGrouping(query: ParsedQuery, previous: ParsedQuery, cues: FollowUpCues): void {
  const wasRank = previous.intent === "rank";
  if (cues.trend) {
    Object.assign(query, {
      intent: "trend",
      group_by: cues.trend,
      compare_to: null,
      order: null,
      limit: null,
    });
  }
  if (cues.byPlatform) {
    if (wasRank) query.group_by = "platform";
    else Object.assign(query, { intent: "compare", group_by: "platform", compare_to: null });
  }
  if (cues.byCampaign) {
    Object.assign(query, {
      intent: "rank",
      group_by: "campaign",
      compare_to: null,
      order: bestOrder(query.metrics[0]),
      limit: wasRank ? previous.limit ?? 5 : 5,
    });
  }
  if (cues.rank) applyRankCue(query, wasRank, cues.rank);
}

function applyRankCue(
  query: ParsedQuery,
  wasRank: boolean,
  { word, count }: { word: string | null; count: number | null },
): void {
  const metric = query.metrics[0];
  const order: SortOrder | null = word === "top" || word === "best"
    ? bestOrder(metric)
    : word === "bottom" || word === "worst"
    ? worstOrder(metric)
    : word === "highest"
    ? "desc"
    : word === "lowest" || word === "cheapest"
    ? "asc"
    : word === "priciest" || word === "most expensive"
    ? "desc"
    : null;
  if (!wasRank && query.intent !== "rank") {
    Object.assign(query, { intent: "rank", group_by: "campaign", compare_to: null });
  }
  query.order = order ?? query.order ?? bestOrder(metric);
  query.limit = count ?? query.limit ?? 5;
}

function bestOrder(metric: BotMetric | undefined): SortOrder {
  return metric !== undefined && lowerIsBetter(metric) ? "asc" : "desc";
}

function worstOrder(metric: BotMetric | undefined): SortOrder {
  return bestOrder(metric) === "asc" ? "desc" : "asc";
}
