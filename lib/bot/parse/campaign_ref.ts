/**
 * Campaign references: an explicit id, "the latest campaign", or a name (quoted, or
 * "the <words> campaign" where the words are not a platform, metric or date).
 */
import type { CampaignRef } from "../query.ts";
import { MASK, type MaskedText } from "./masked_text.ts";
import { METRIC_WORDS } from "./metrics.ts";
import { PLATFORM_WORDS } from "./platforms.ts";

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

export interface IdText {
  /** The text with the id masked. */
  readonly text: string;
  /** The first id said, lower case, whole ("acme-cmp-1", not "cmp-1"). */
  readonly campaignId: string | null;
}

/**
 * Takes explicit campaign ids out before punctuation is reduced (which would split
 * them): "campaign id 42", a dashed token ending in digits, a platform id of six or
 * more digits.
 */
export function takeCampaignId(lowerText: string): IdText {
  let campaignId: string | null = null;
  const takeId = (id: string): string => {
    campaignId ??= id;
    return ` ${MASK} `;
  };
  let text = lowerText.replace(
    /\bcampaign\s*(?:id|#|no\.?|number)\s*:?\s*#?\s*([a-z0-9-]*\d[\w-]*)/g,
    (_, id) => "campaign " + takeId(id),
  );
  // The whole dashed token: "acme-cmp-1" is one id, never its tail "cmp-1".
  text = text.replace(
    /(?<![\w-])((?:[a-z]+-)+)(\d+)(?![\w-])/g,
    (whole: string, prefix: string) =>
      prefix.slice(0, -1).split("-").every((word) => NOT_ID_PREFIXES.has(word))
        ? whole
        : takeId(whole),
  );
  text = text.replace(/(?<![\d/.-])\b\d{6,}\b(?![/.-]\d)/g, (id: string) => takeId(id));
  return { text, campaignId };
}

/** What preparation found before the rules ran. */
export interface SaidReference {
  readonly quotedName: string | null;
  readonly campaignId: string | null;
}

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

export function extractCampaign(text: MaskedText, prepared: SaidReference): CampaignRef | null {
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
  // "the spring launch campaign": a noun right before "campaign" belongs to the name.
  const lastBoundary = NAME_NOUNS.has(words[words.length - 1])
    ? words.length - 2
    : words.length - 1;
  for (let index = lastBoundary; index >= 0; index--) {
    if (NAME_BOUNDARY_WORDS.has(words[index])) {
      first = joinedNameStart(words, index) ?? index + 1;
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

/** Small words that may sit inside a name ("back to school", "share of voice"). */
const NAME_JOINERS = new Set(["to", "of"]);
const DETERMINERS = new Set(["the", "my", "our", "your", "their", "this", "that"]);

/**
 * "the back to school campaign": when the boundary met is a joiner and a determiner
 * opens the name a few words before it, the name starts after the determiner.
 */
function joinedNameStart(words: readonly string[], boundary: number): number | null {
  if (!NAME_JOINERS.has(words[boundary])) return null;
  for (let index = boundary - 1; index >= 0; index--) {
    const word = words[index];
    if (DETERMINERS.has(word)) return index < boundary - 1 ? index + 1 : null;
    if (NAME_BOUNDARY_WORDS.has(word) || isNameEdge(word)) return null;
  }
  return null;
}

/** Boundary words that are nouns too: right before "campaign" they end the name. */
const NAME_NOUNS = new Set(["launch", "run"]);

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
