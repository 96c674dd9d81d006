/**
 * Metrics named in a prompt: aliases ("return on ad spend"), "cost per <unit>", money
 * words, and the metric a question implies ("how much did we make" → revenue).
 */
import { PRICE_OF_COUNT } from "../../kpi.ts";
import type { BotMetric } from "../query.ts";
import { COST_PER_LEADS, COST_PER_UNITS, METRIC_ALIASES } from "../vocabulary.ts";
import type { MaskedText } from "./masked_text.ts";
import { alternation } from "./text.ts";

const METRIC_BY_ALIAS = new Map<string, BotMetric>(
  Object.entries(METRIC_ALIASES).flatMap(([metric, aliases]) =>
    aliases.map((alias) => [alias, metric as BotMetric] as const)
  ),
);
export const METRIC_WORDS = new Set(
  [...METRIC_BY_ALIAS.keys()].flatMap((alias) => alias.split(" ")),
);
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
/** "cheapest per lead", "most expensive per click": the price of that unit. */
const PRICE_PER_PATTERN = new RegExp(
  String
    .raw`\b(?:cheap|cheaper|cheapest|expensive|pricey|pricier|priciest|costly|costlier|costliest)\b(?: \S+){0,3}? (?:per|a|each) ${COST_UNIT}s?\b`,
  "g",
);
/** "how much are LinkedIn ads per click": the price of the unit. */
const HOW_MUCH_PER_PATTERN = new RegExp(
  String.raw`\bhow much\b((?: \S+){0,6}?) (?:per|for each|each) ${COST_UNIT}s?\b`,
  "g",
);
const MONEY_PATTERN = /\b(?:money|dollars|cash|bucks|euros|pounds)\b/g;
const REVENUE_VERBS =
  /\b(?:make|made|making|earn|earned|earning|bring in|brought in|bringing in|generate|generated|generating|gross|grossed|return|returned)\b/;

interface FoundMetric {
  readonly metric: BotMetric;
  readonly at: number;
}

export function extractMetrics(text: MaskedText): BotMetric[] {
  const found: FoundMetric[] = [];
  const note = (metric: BotMetric, at: number) => {
    found.push({ metric, at });
    return true;
  };
  const original = text.value;
  text.scan(COST_PER_PATTERN, (match) => note(COST_PER_UNITS[match[1]], match.index));
  text.scan(COST_PER_REVERSED_PATTERN, (match) => note(COST_PER_UNITS[match[1]], match.index));
  text.scan(HOW_MUCH_PER_PATTERN, (match) => {
    // "how much revenue per click" is not a price; money made per unit is not ours to derive.
    if (/\b(?:revenue|sales|make|made|earn\w*|return)\b/.test(match[1])) return false;
    return note(COST_PER_UNITS[match[2]], match.index);
  });
  text.scan(PRICE_PER_PATTERN, (match) => {
    const unit = match[1];
    note(COST_PER_UNITS[unit], match.index);
    // Only the unit is consumed: "cheapest" still says which way to rank.
    text.mask(
      match.index + match[0].length - unit.length - (match[0].endsWith("s") ? 1 : 0),
      match.index + match[0].length,
    );
    return false;
  });
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
  return unique(metrics.map((metric) => priceOf(metric) ?? metric));
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function priceOf(metric: BotMetric): BotMetric | undefined {
  return metric in PRICE_OF_COUNT
    ? PRICE_OF_COUNT[metric as keyof typeof PRICE_OF_COUNT]
    : undefined;
}
