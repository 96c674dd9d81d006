/**
 * Text preparation: quoted names taken out, lower case, contractions spelled out,
 * symbols and chat shorthand reduced to plain words, typos corrected.
 */
import { MASK } from "./masked_text.ts";
import { correctTypo } from "./typos.ts";
import { NUMBER_WORDS } from "../vocabulary.ts";

/** Prompts are a sentence or two; the cap bounds the work a pasted essay could cause. */
export const MAX_PROMPT_LENGTH = 2000;

export interface QuotedText {
  /** The prompt with its quoted parts masked. */
  readonly text: string;
  /** The first quoted part, lower case, single spaces: a campaign name. */
  readonly quotedName: string | null;
}

/** Takes quoted parts out ("…", '…'); the first one is a campaign name. */
export function takeQuotedName(prompt: string): QuotedText {
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
  return { text, quotedName };
}

/** Lower case without accents, contractions spelled out. */
export function foldCase(text: string): string {
  return expandContractions(text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase());
}

/** Symbols and shorthand as words, typos corrected, single spaces. */
export function normalizeWords(text: string): string {
  return normalizeSymbols(text).split(" ").filter((token) => token.length > 0).map(
    normalizeToken,
  ).join(" ");
}

/** Number words a count may be said with ("top three"), without the article "a". */
export const COUNT_WORDS = Object.keys(NUMBER_WORDS).filter((word) =>
  word !== "a" && word !== "an"
);

/** A count said in digits or words; 1 for an article ("a week"). */
export function countOf(word: string): number {
  return /^\d+$/.test(word) ? Number(word) : NUMBER_WORDS[word] ?? 1;
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
    .replace(/\blinked in\b/g, "linkedin")
    .replace(/&/g, " and ")
    .replace(/\bw\//g, "with ")
    .replace(/(?<=[a-z])\s*[/+]\s*(?=[a-z])/g, " and ")
    .replace(/\$+(?!\s*\d)/g, " dollars ")
    .replace(/\u00a3+(?!\s*\d)/g, " pounds ")
    .replace(/\u20ac+(?!\s*\d)/g, " euros ")
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
};

function normalizeToken(token: string): string {
  return SHORTHANDS[token] ?? correctTypo(token);
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function alternation(phrases: Iterable<string>): string {
  return [...phrases].sort((a, b) => b.length - a.length || a.localeCompare(b)).map(escapeRegExp)
    .join("|");
}
