/**
 * Messages that hold a platform or metric word but do not ask about the user's own
 * ads: exchange rates, the price of a product, news about a platform, what a "good"
 * number is (the bot holds no benchmarks). They stay `unknown`.
 */
import { isExchangeRateQuestion } from "./currency.ts";
import type { Signals } from "./intent.ts";
import { METRIC_WORDS } from "./metrics.ts";

/** Ad things a price question may be about: "how much does a click cost" is ours. */
const AD_NOUNS = new Set(
  (
    "click clicks conversion conversions lead leads impression impressions thousand campaign " +
    "campaigns ad ads sale sales acquisition install signup sign customer result order purchase " +
    "visitor visit view user day week month year single typical average"
  ).split(" "),
);

/** "how much does a google pixel cost", "price of an iphone": the product is not an ad. */
const PRODUCT_PRICE =
  /\b(?:how much (?:does|do|is|are|would|will|did) (?:a|an|one|the new|the latest) |(?:price|cost|msrp) of (?:a|an|the new|the latest) )([a-z0-9]+)/;
/** "how much does Google Ads cost", "how much is TikTok worth": what a thing costs, not our spend. */
const PRICE_OF_THING =
  /\bhow much (?:does|do|would|will|is|are) ((?:[a-z0-9]+ ){1,4})(?:cost|costs|charge|charges|worth|go for|sell for)\b/;
const FIRST_PERSON = /\b(?:we|i|our|us|my|me|mine)\b/;
/** "is facebook down?": the service, not the numbers (which carry a metric word). */
const SERVICE_STATUS =
  /\b(?:is|are) (?:[a-z]+ ){1,3}(?:down|offline|not working|broken|glitching)\b|\b(?:outages?|crashed|crashing|hacked)\b/;

const NEWS =
  /\b(?:news|pricing|price changes?|headlines?|banned|ban|banning|bans|lawsuits?|sued|suing|antitrust|acquired by|merger|ceo|cfo|founders?|founded|headquarters|layoffs?|laid off|outages?|algorithm|announced|announcement|ipo|went public|privacy policy|terms of service|regulators?|regulation|congress|senate|did you (?:see|hear)|have you (?:seen|heard))\b/;

/** Devices and goods named after a platform: "is the new Pixel worth buying". */
const PRODUCTS =
  /\b(?:pixel|pixels|iphones?|ipads?|android|phones?|smartphones?|laptops?|chromebooks?|macbooks?|tablets?|headsets?|oculus|airpods|consoles?|worth buying|should i buy)\b/;
/** "how does the Facebook ads auction work": how a platform works, not how we did. */
const HOW_IT_WORKS = /\bhow (?:does|do) (?:\S+ ){1,6}work\b/;
/** "is Instagram part of Meta": how platforms relate, not how they performed. */
const TAXONOMY =
  /\b(?:part of|count as|counts as|counted as|same as|the same thing as|owned by|belongs? to)\b/;
/** The bot reads what happened; it does not forecast. */
const FUTURE =
  /\b(?:next (?:week|month|quarter|year)|predict\w*|projections?|will (?:\S+ ){0,4}(?:go|be|increase|decrease|rise|fall|drop))\b/;
/** Questions about the bot itself: "what metrics do you support". */
const CAPABILITIES =
  /\b(?:do you (?:support|track|cover|know|have data)|can you (?:do|answer|handle)|what can you|are you able|what do you know)\b/;

/** "is a 2% CTR good", "what is a good ROAS", "industry benchmarks". */
const BENCHMARK =
  /\b(?:benchmarks?|industry|industries|sector|competitors?|(?:for|in) (?:the )?(?:retail|e ?commerce|b2b|b2c|saas|finance|healthcare|travel|real estate|education)\b|what ?(?:is|'s|s|are) (?:a )?(?:good|typical|normal|decent|healthy|reasonable|realistic)\b|(?:is|are) (?:a |an )?\d[\d.]* ?(?:percent|x)?\b.*\b(?:good|bad|ok|okay|normal|decent|healthy|high|low|typical|reasonable)\b)/;

export function isOffTopicMention(signals: Signals): boolean {
  const { plain, metrics, dates, campaign } = signals;
  // A named campaign is the user's own: its name may hold any word ("the news roundup campaign").
  if (campaign !== null) return false;
  if (isExchangeRateQuestion(plain) || NEWS.test(plain) || BENCHMARK.test(plain)) return true;
  if (metrics.length === 0 && (SERVICE_STATUS.test(plain) || PRODUCTS.test(plain))) return true;
  if (metrics.length === 0 && (HOW_IT_WORKS.test(plain) || CAPABILITIES.test(plain))) return true;
  if (metrics.length === 0 && (TAXONOMY.test(plain) || /\bprices?\b/.test(plain))) return true;
  if (dates.count === 0 && FUTURE.test(plain)) return true;
  const thing = PRICE_OF_THING.exec(plain);
  if (
    thing && dates.count === 0 && !FIRST_PERSON.test(plain) &&
    !thing[1].split(" ").some((word) => AD_NOUNS.has(word) && word !== "ads")
  ) {
    return true;
  }
  const price = PRODUCT_PRICE.exec(plain);
  return price !== null && !AD_NOUNS.has(price[1]) && !METRIC_WORDS.has(price[1]) &&
    !/^(?:cost|cpc|cpa|cpm)$/.test(price[1]);
}
