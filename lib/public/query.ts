/**
 * The bot's language layer as the library publishes it: the structured query a prompt
 * parses into, written out as plain types (the parser's zod schemas must agree with
 * them; tests/library/public_types_test.ts checks it), and `parsePrompt`.
 */
import type { Platform } from "../schema.ts";
import { parsePrompt as parseWithGrammar } from "../bot/parse/parse.ts";

/** A metric the bot speaks of; `spend` is the API's `cost`. */
export type BotMetric =
  | "impressions"
  | "clicks"
  | "conversions"
  | "spend"
  | "revenue"
  | "ctr"
  | "roas"
  | "cpa"
  | "cpc"
  | "cpm"
  | "cvr";

/**
 * What a question asks for: `explain` is a definition ("what is ROAS?"); `unknown` when it
 * is not about ad performance.
 */
export type Intent =
  | "metric"
  | "trend"
  | "compare"
  | "rank"
  | "list_campaigns"
  | "explain"
  | "unknown";

/** How answers are grouped: by time bucket, platform or campaign. */
export type GroupBy = "day" | "week" | "month" | "platform" | "campaign";

/** An inclusive range of calendar dates (YYYY-MM-DD). */
export interface DateRange {
  /** First day. */
  from: string;
  /** Last day, included. */
  to: string;
}

/** How a question names a campaign: by id, as "the latest", or by (part of) its name. */
export type CampaignRef =
  | { type: "id"; value: string }
  | { type: "latest" }
  | { type: "name"; value: string };

/** The structured query a prompt parses into (keys are snake_case: it travels as JSON). */
export interface ParsedQuery {
  /** What is asked for. */
  intent: Intent;
  /** The metrics asked about; `[]` asks for a summary of the key metrics. */
  metrics: BotMetric[];
  /** The platforms asked about; `[]` means all. */
  platforms: Platform[];
  /** The period asked about; null when the prompt names no time. */
  date_range: DateRange | null;
  /** The second period of a period comparison. */
  compare_to: DateRange | null;
  /** The campaign asked about; null means all campaigns. */
  campaign: CampaignRef | null;
  /** How to group the answer, when asked. */
  group_by: GroupBy | null;
  /** Ranking order, when asked ("best" and "worst" depend on the metric). */
  order: "asc" | "desc" | null;
  /** How many to list, when asked ("top 5"). */
  limit: number | null;
  /** ISO 4217 code money should be shown in ("in euros" → EUR); null keeps stored currencies. */
  currency: string | null;
}

/** What relative dates ("last week", "this quarter") resolve against. */
export interface ParseOptions {
  /** The instant "today" is taken from; defaults to the current time. */
  readonly now?: Date;
  /** IANA zone whose calendar date is "today"; defaults to UTC. */
  readonly timeZone?: string;
  /**
   * The conversation's previous query: a follow-up ("and for Meta?") then changes only
   * the slots it names.
   */
  readonly previous?: ParsedQuery | null;
}

/**
 * Parses a plain-English question about ad performance into a {@linkcode ParsedQuery}:
 * deterministic rules and TF-IDF similarity, no model, no network. Relative dates
 * resolve against `options.now` in `options.timeZone`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePrompt } from "@campaign-analytics/core";
 *
 * const query = parsePrompt("How much did I spend on LinkedIn ads last week?", {
 *   now: new Date("2024-05-15T12:00:00Z"),
 * });
 * assert.deepEqual(query.metrics, ["spend"]);
 * assert.deepEqual(query.platforms, ["linkedin"]);
 * assert.deepEqual(query.date_range, { from: "2024-05-06", to: "2024-05-12" });
 * ```
 *
 * @param prompt The question, as a person typed it.
 * @param options The "now" and time zone relative dates resolve against, and the
 *   conversation's previous query for follow-ups.
 * @returns The structured query; `intent: "unknown"` when the question is off topic.
 */
export function parsePrompt(prompt: string, options: ParseOptions = {}): ParsedQuery {
  return parseWithGrammar(prompt, options);
}
