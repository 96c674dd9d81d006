/**
 * The currency an answer should be shown in: "in euros", "in USD", "in £", "as
 * Canadian dollars". Also tells a question about exchange rates ("conversion rate from
 * USD to EUR") from a question about the user's ads: those are not ours to answer.
 */
import type { MaskedText } from "./masked_text.ts";
import { alternation } from "./text.ts";

/** Currency names people say, as the prepared text spells them ($ → dollars, £ → pounds). */
const CURRENCY_NAMES: Readonly<Record<string, string>> = {
  dollars: "USD",
  dollar: "USD",
  "us dollars": "USD",
  "american dollars": "USD",
  bucks: "USD",
  euros: "EUR",
  euro: "EUR",
  pounds: "GBP",
  pound: "GBP",
  "pounds sterling": "GBP",
  "british pounds": "GBP",
  sterling: "GBP",
  quid: "GBP",
  "canadian dollars": "CAD",
  "canadian dollar": "CAD",
  "aussie dollars": "AUD",
  "aussie dollar": "AUD",
  "australian dollars": "AUD",
  "australian dollar": "AUD",
  "new zealand dollars": "NZD",
  "kiwi dollars": "NZD",
  yen: "JPY",
  "japanese yen": "JPY",
  "swiss francs": "CHF",
  francs: "CHF",
  rupees: "INR",
  "indian rupees": "INR",
  yuan: "CNY",
  renminbi: "CNY",
  "swedish krona": "SEK",
  "swedish kronor": "SEK",
  "norwegian krone": "NOK",
  "danish krone": "DKK",
  "mexican pesos": "MXN",
  pesos: "MXN",
  reais: "BRL",
  "brazilian reais": "BRL",
  "singapore dollars": "SGD",
  "hong kong dollars": "HKD",
  rand: "ZAR",
  zloty: "PLN",
};

/** Every ISO 4217 code this runtime knows, lower case as the prepared text has them. */
const ISO_CODES: ReadonlySet<string> = new Set(
  Intl.supportedValuesOf("currency").map((code) => code.toLowerCase()),
);

/**
 * Codes that are also English words ("all", "top", "try", "cup"): taken as a currency
 * only when the prompt writes them in capitals ("in TRY").
 */
const WORD_LIKE_CODES: ReadonlySet<string> = new Set([
  "all",
  "top",
  "try",
  "cup",
  "mop",
  "bob",
  "gel",
  "mad",
  "pen",
  "rub",
  "sos",
  "cop",
  "ron",
  "bam",
  "lak",
  "kes",
  "npr",
  "ves",
  "vef",
  "std",
  "cve",
  "php",
  "fjd",
  "aoa",
  "ang",
  "mur",
  "dop",
  "szl",
  "tmt",
  "xxx",
  "xts",
]);

/** The words that ask for a currency: "in euros", "to GBP", "converted into £". */
const CONVERSION_LEAD = String
  .raw`(?:in|into|to|as|using|converted (?:to|into)|convert(?:ed)? (?:it |them |that )?(?:to|into)|expressed in|shown in|show(?: it| them| that)? in|reported in)`;
const NAME_PATTERN = new RegExp(
  String.raw`\b(?:${CONVERSION_LEAD} )(?:the )?(${alternation(Object.keys(CURRENCY_NAMES))})\b`,
  "g",
);
/** A code, with the words that ask to convert into it ("converted to eur"). */
const CODE_PATTERN = /\b(?:convert(?:ed)? (?:(?:it|them|that|this) )?(?:to|into) )?([a-z]{3})\b/g;
/** Currency amounts of money: "over 500 dollars" names an amount, not the reporting currency. */
const AMOUNT_BEFORE = /\d\s*$/;

/**
 * The currency asked for, masking the words that asked. `original` is the prompt as
 * typed: a code that is also a word counts only in capitals there.
 */
export function extractCurrency(text: MaskedText, original: string): string | null {
  let currency: string | null = null;
  text.scan(NAME_PATTERN, (match) => {
    if (AMOUNT_BEFORE.test(text.value.slice(0, match.index))) return false;
    currency ??= CURRENCY_NAMES[match[1]];
    return true;
  });
  const capitals = new Set(original.match(/\b[A-Z]{3}\b/g) ?? []);
  text.scan(CODE_PATTERN, (match) => {
    const code = match[1];
    if (!ISO_CODES.has(code)) return false;
    if (WORD_LIKE_CODES.has(code) && !capitals.has(code.toUpperCase())) return false;
    currency ??= code.toUpperCase();
    return true;
  });
  return currency;
}

/** A currency said by name or by a code that is not also an English word. */
const ANY_CURRENCY = `(?:${
  alternation([
    ...Object.keys(CURRENCY_NAMES),
    ...[...ISO_CODES].filter((code) => !WORD_LIKE_CODES.has(code)),
  ])
})`;
/**
 * Exchange-rate questions: "conversion rate from USD to EUR", "exchange rate for
 * pounds", "how many euros is 100 dollars", "convert 50 usd to gbp".
 */
const EXCHANGE_PATTERNS: readonly RegExp[] = [
  /\b(?:exchange|currency|fx) rates?\b|\bforex\b/,
  new RegExp(String.raw`\b${ANY_CURRENCY} (?:to|into|vs|versus|against|per) ${ANY_CURRENCY}\b`),
  new RegExp(String.raw`\bhow many ${ANY_CURRENCY} (?:is|are|in|to|for|per|make)\b`),
  new RegExp(String.raw`\bconvert (?:\d[\d.,]* ?)?${ANY_CURRENCY}\b`),
  new RegExp(String.raw`\b\d[\d.,]* ?${ANY_CURRENCY} (?:in|to|into|is|are) ${ANY_CURRENCY}\b`),
];

/** True for a question about exchange rates rather than the user's ads. */
export function isExchangeRateQuestion(plain: string): boolean {
  return EXCHANGE_PATTERNS.some((pattern) => pattern.test(plain));
}
