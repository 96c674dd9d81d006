/**
 * Definition questions: "what is ROAS?", "what does CPM mean", "how is CPA
 * calculated", "define CTR". A question that points at the user's data (a platform, a
 * campaign, a date, "my", "the ROAS") asks for a number instead.
 */
import { MASK } from "./masked_text.ts";
import type { Signals } from "./intent.ts";

/** Words that only a definition question uses. */
const DEFINITION_WORDS =
  /\b(?:mean|means|meaning|stand for|stands for|short for|acronym|abbreviation|definition|define|defined|explain|explanation|calculated|calculate|calculation|computed|compute|formula|measured|worked out|work out|counts as|count as|difference between|diff between|understand|why (?:does|do) (?:it|they) matter|why (?:it|they) matters?|not sure what|what kind of metric|how (?:does|do) (?:\S+ ){0,3}work)\b/;
/** "what is ROAS": a definition when nothing else is asked. */
const WHAT_IS =
  /^(?:\W*(?:so|ok|okay|hey|hi|quick question|q|sorry|and|also|but|um|btw)\s+)*(?:what|whats|wtf)\s*(?:is|'s|s|are|does|do)?\s+(?:a |an )?\u2022/;
/** The user's own data: a number about it is asked, not a definition. */
const DATA_WORDS =
  /\b(?:we|our|us|my|mine|yesterday|today|campaigns?|account|currently|now|right now|so far|total|overall)\b/;

/** "explain why ROAS dropped": a question about what happened, not what a word means. */
const WHY =
  /\bwhy (?:did|is|are|was|were|has|have)\b|\bhow come\b|\b(?:drop|dropped|fell|rose|spiked|went up|went down|changed)\b/;

export function isDefinitionQuestion(signals: Signals): boolean {
  const { text, metrics, platforms, campaign, dates, currency } = signals;
  if (
    metrics.length === 0 || platforms.length > 0 || campaign !== null || dates.count > 0 ||
    currency !== null
  ) {
    return false;
  }
  if (DATA_WORDS.test(text) || WHY.test(text)) return false;
  if (DEFINITION_WORDS.test(text)) return true;
  // "what is the ROAS" asks for our number; "what is ROAS" / "what's a conversion" for its meaning.
  return WHAT_IS.test(text) && !new RegExp(`\\bthe ${MASK}`).test(text) &&
    /^[^a-z]*$/.test(
      text.slice(text.lastIndexOf(MASK) + 1).replace(
        /\b(?:please|then|exactly|again|mean|actually)\b/g,
        "",
      ),
    );
}
