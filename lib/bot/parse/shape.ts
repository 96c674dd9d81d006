/**
 * The rest of the query once the intent is known: the second period of a comparison,
 * the grouping, and a ranking's order and limit.
 */
import type { BotMetric, GroupBy, Intent, ParsedQuery, SortOrder } from "../query.ts";
import { lowerIsBetter } from "../query.ts";
import { toDateRange } from "./calendar.ts";
import { ACROSS_CAMPAIGNS, ACROSS_PLATFORMS, type Signals } from "./intent.ts";
import { COUNT_WORDS, countOf } from "./text.ts";

export function assembleQuery(intent: Intent, signals: Signals): ParsedQuery {
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
    currency: null,
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
    /\b(?:campaigns?|ads?(?! (?:platforms?|networks?|channels?|accounts?))|ad sets?|adsets?|ad groups?|adgroups?|creatives?)\b/
      .exec(text);
  if (platformWord && (!campaignWord || platformWord.index < campaignWord.index)) return "platform";
  return "campaign";
}

const BEST_WORDS =
  /\b(?:best|better|most efficient|most effective|strongest|top perform\w*|best perform\w*|outperform\w*|winners?|most profitable|well|good|great|strong)\b/;
const WORST_WORDS =
  /\b(?:worst|worse|bottom|least efficient|least effective|inefficient|weakest|poorest|underperform\w*|worst perform\w*|bottom perform\w*|losers?|least profitable|poorly|badly|bad|weak)\b/;
const DESCENDING_WORDS =
  /\b(?:highest|top|most|biggest|largest|greatest|max|maximum|priciest|costliest|most expensive|leading|leaders?|more|higher)\b/;
const ASCENDING_WORDS =
  /\b(?:lowest|least|fewest|smallest|cheapest|min|minimum|least expensive|less|fewer|lower|cheaper)\b/;

/** "best"/"worst" follow the metric's direction; plain "highest"/"lowest" do not. */
function rankOrder(text: string, metrics: readonly BotMetric[]): SortOrder {
  const lowerFirst = metrics.length > 0 && lowerIsBetter(metrics[0]);
  const best = BEST_WORDS.exec(text);
  const worst = WORST_WORDS.exec(text);
  if (best || worst) {
    const saysBest = best !== null && (worst === null || best.index < worst.index);
    return saysBest === lowerFirst ? "asc" : "desc";
  }
  const descending = DESCENDING_WORDS.exec(text);
  const ascending = ASCENDING_WORDS.exec(text);
  if (ascending && (!descending || ascending.index < descending.index)) return "asc";
  if (descending) return "desc";
  // "rank platforms by ROAS", "sort campaigns by CPC": no direction word, best first.
  return lowerFirst ? "asc" : "desc";
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
  /\b(campaigns?|platforms?|channels?|networks?|ad sets?|ad groups?|adsets?|adgroups?|ads?|creatives?|ones?|performers?|winners?|losers?|sources?)\b/;

const SINGULAR_WHICH_OF =
  /\b(?:which|what) (?:one )?of (?:(?:my|our|the|all|all of)\s+)*\S+ (?:has|is|was|had|got|gets|does|did|drove|drives|brought|brings|delivered|made|makes|performs|performed|spent|generated|gave)\b/;

/** The number said ("top 3"), else 1 for a singular question and 5 for a plural one. */
function rankLimit(text: string): number {
  const said = LIMIT_BEFORE_NUMBER.exec(text) ?? LIMIT_AFTER_NUMBER.exec(text);
  if (said) {
    const count = countOf(said[1]);
    if (count > 0) return count;
  }
  // "which of my campaigns has the best CTR" asks for one, whatever the noun's number.
  if (SINGULAR_WHICH_OF.test(text)) return 1;
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
