/**
 * Intent: what kind of question the prompt asks, from cue words around what the
 * other rules found. The TF-IDF example index is consulted only when the rules see
 * no sign of an ad-performance question at all.
 */
import type { Platform } from "../../schema.ts";
import type { BotMetric, CampaignRef, Intent } from "../query.ts";
import { VectorIndex } from "../vector_search.ts";
import { INTENT_EXAMPLES } from "../vocabulary.ts";
import type { DateFinding } from "./dates.ts";
import { MASK } from "./masked_text.ts";
import { isDefinitionQuestion } from "./explain.ts";
import { isOffTopicMention } from "./off_topic.ts";
import { holdsOnlySlots } from "./follow_up.ts";

export interface Signals {
  /** The prepared text with campaign references, dates, platforms and metrics masked. */
  readonly text: string;
  /** The prepared text before masking, for cues that must see every word. */
  readonly plain: string;
  readonly campaign: CampaignRef | null;
  readonly dates: DateFinding;
  readonly platforms: readonly Platform[];
  readonly metrics: readonly BotMetric[];
  /** The ISO 4217 code the money should be shown in, when one was asked for. */
  readonly currency: string | null;
  /** Today's calendar date (local midnight) the dates were read against. */
  readonly today: Date;
}

const OFF_TOPIC =
  /\b(?:weather|forecast|rain|snow|temperature|jokes?|poem|song|sing|recipe|cook|cooking|translate|capital of|who (?:won|is|was|owns|invented|founded|created)|stock price|share price|stocks?|bitcoin|crypto|meaning of life|time is it|your name|who are you|how are you|horoscope|essay|movies?|pizza|dinner|lunch|breakfast|flights?|hotels?|football|soccer|basketball|baseball|nba|nfl|president|election)\b/;
const HOW_TO =
  /\bhow (?:do|can|could|should|would) (?:i|we|you)\b(?! (?:see|check|find|get|view|look))|\bhow to\b/;
/** Requests to do or write something: the bot reads numbers, it does not act or draft copy. */
const ACTION_REQUEST =
  /^(?:(?:please|pls|can you|could you|would you|help me|i want to|i need to|let 's|lets)\s+)*(?:pause|unpause|stop|launch|turn (?:off|on)|increase|decrease|(?:raise|lower|move|shift|boost|reallocate|allocate) (?:the |my |our |all |some |more |less |it|that|this|budget|bids?|spend)|delete|remove|cancel|enable|disable|duplicate|schedule|create|set up|setup|write|draft|compose|brainstorm|design|optimi[sz]e|fix|edit|rename|book|send|email|e mail|message|call|ring|remind|invite|share|post|publish|upload|buy|export|download)\b/;
const ADVICE =
  /\b(?:should|shall) (?:i|we)\b|\b(?:advice|tips?|recommend\w*|suggest\w*|best practices?|strateg(?:y|ies)|ways to|ideas? (?:to|for|on))\b/;
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
  /\b(?:best|worst|top|bottom|highest|lowest|most|least|fewest|biggest|largest|smallest|greatest|cheapest|priciest|costliest|leading|strongest|weakest|poorest|max|maximum|min|minimum|rank|ranked|ranking|rankings|leaderboard|sort|sorted|order by|ordered by|order (?:(?:the|my|our|all) )?(?:campaigns?|platforms?|channels?|networks?|ads|ad sets?)|underperform\w*|outperform\w*|winners?|losers?|most expensive|least expensive)\b/;
export const COMPARATIVES = /\b(?:more|fewer|less|better|worse|higher|lower|cheaper|pricier)\b/;
export const EXPLICIT_COMPARE =
  /\b(?:compare|compared|comparing|comparison|vs|versus|against|side by side|head to head|difference between|differences between|relative to|stack up|stacks up|stack against)\b/;
export const ACROSS_PLATFORMS =
  /\b(?:compare|comparing|across|between|among|amongst|by|per|each|every|for each|split by|broken down by|breakdown by|break down by|breakdown of|vs)\s+(?:(?:all|the|my|our|each|every|different|various|\d|four)\s+)*(?:platforms?|channels?|networks?)\b/;
export const ACROSS_CAMPAIGNS =
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
  /\b(?:trends?|trending|trendline|over time|time series|timeseries|daily|weekly|monthly|day by day|week by week|month by month|by day|by week|by month|per day|per week|per month|each day|each week|each month|every day|every week|every month|day to day|week to week|month to month|chart|charts|graph|graphs|plot|timeline|history|historical|evolution|evolved?|evolving|progress|progression|trajectory|changed?|changing|fluctuat\w*|over the (?:days|weeks|months)|trended|develop|developed|developing|moved|shifted|up or down|going up|going down|trending (?:up|down)|increasing|decreasing|rising|falling|declining)\b/;
const QUALITY_WORDS = /\b(?:well|good|great|strong|poorly|badly|bad|weak)\b/;
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

export function classifyIntent(signals: Signals): Intent {
  const { text, plain, metrics, platforms, campaign, dates } = signals;
  if (OFF_TOPIC.test(text) && metrics.length === 0) return "unknown";
  if (isOffTopicMention(signals)) return "unknown";
  if (isDefinitionQuestion(signals)) return "explain";
  if (ACTION_REQUEST.test(plain) || HOW_TO.test(plain) && dates.count === 0) return "unknown";
  if (ADVICE.test(text) && dates.count === 0 && campaign === null) return "unknown";
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
function intentWithoutDomainWords(signals: Signals): Intent {
  const { text, dates } = signals;
  if (dates.compareTo && EXPLICIT_COMPARE.test(text)) return "compare";
  // "q2 so far", "yesterday?": nothing but a period asks for the summary of that period.
  if (dates.count > 0 && holdsOnlySlots(signals)) return dates.compareTo ? "compare" : "metric";
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
