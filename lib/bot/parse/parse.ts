/**
 * From a free-form prompt to a `ParsedQuery`. Rules run in this order, each masking
 * what it used so later rules cannot read the same words twice:
 *
 *   prepare (quotes, ids, typos) → campaign reference → currency → dates → platforms →
 *   metrics → follow-up (with a previous query) or intent
 *
 * Pure and deterministic for a given `now`.
 */
import { type ParsedQuery, unknownQuery } from "../query.ts";
import { calendarToday } from "./calendar.ts";
import { extractCampaign, takeCampaignId } from "./campaign_ref.ts";
import { extractCurrency } from "./currency.ts";
import { extractDates } from "./dates.ts";
import { applyFollowUp, isFollowUp } from "./follow_up.ts";
import { isOffTopicMention } from "./off_topic.ts";
import { isDefinitionQuestion } from "./explain.ts";
import { classifyIntent, type Signals } from "./intent.ts";
import { MaskedText } from "./masked_text.ts";
import { extractMetrics } from "./metrics.ts";
import { extractPlatforms } from "./platforms.ts";
import { assembleQuery } from "./shape.ts";
import { foldCase, MAX_PROMPT_LENGTH, normalizeWords, takeQuotedName } from "./text.ts";

export interface ParseOptions {
  /** The instant "today" is taken from; defaults to the current time. */
  readonly now?: Date;
  /** IANA zone whose calendar date is "today"; defaults to UTC. */
  readonly timeZone?: string;
  /** The conversation's previous query: a follow-up ("and for Meta?") changes only some of it. */
  readonly previous?: ParsedQuery | null;
}

export function parsePrompt(prompt: string, options: ParseOptions = {}): ParsedQuery {
  const signals = readSignals(prompt, options);
  const previous = options.previous;
  if (
    previous && previous.intent !== "unknown" && !isOffTopicMention(signals) &&
    !isDefinitionQuestion(signals) && isFollowUp(signals)
  ) {
    return applyFollowUp(previous, signals);
  }
  const intent = classifyIntent(signals);
  if (intent === "unknown") return unknownQuery();
  return { ...assembleQuery(intent, signals), currency: signals.currency };
}

/** Everything the rules found in a prompt, before the intent is decided. */
export function readSignals(prompt: string, options: ParseOptions = {}): Signals {
  const today = calendarToday(options.now ?? new Date(), options.timeZone);
  const quoted = takeQuotedName(prompt.slice(0, MAX_PROMPT_LENGTH));
  const ids = takeCampaignId(foldCase(quoted.text));
  const plain = normalizeWords(ids.text);
  const text = new MaskedText(plain);

  const campaign = extractCampaign(text, {
    quotedName: quoted.quotedName,
    campaignId: ids.campaignId,
  });
  const currency = extractCurrency(text, prompt);
  const dates = extractDates(text, today);
  const platforms = extractPlatforms(text);
  const metrics = extractMetrics(text);
  return { text: text.value, plain, campaign, dates, platforms, metrics, currency, today };
}
