/**
 * Scores a parser against an evaluation file (docs/bot.md, "Evaluation
 * files"): JSON Lines of `{id, prompt, now?, tz?, previous?, expect}`. Only the keys present in
 * `expect` are scored; metrics and platforms compare as sets, a campaign `value`
 * ignores case, quotes and punctuation, everything else must be equal. Pure: the
 * caller reads the file and prints the report.
 */
import { z } from "zod";
import { parsePrompt } from "./parse/parse.ts";
import { CurrencyCodeSchema, type ParsedQuery, ParsedQuerySchema } from "./query.ts";
import { isRecord } from "../schema.ts";

/** The evaluation files' default "now": a Wednesday. */
export const DEFAULT_EVAL_NOW = "2024-04-24T10:00:00Z";

export const EvalCaseSchema = z.object({
  id: z.string().min(1),
  prompt: z.string(),
  now: z.iso.datetime({ offset: true }).optional(),
  /** IANA zone whose calendar "today" is read in; UTC when absent. */
  tz: z.string().min(1).optional(),
  /** The conversation's previous query: the prompt is then a possible follow-up. */
  previous: ParsedQuerySchema.extend({
    // Files written before `currency` existed leave it out.
    currency: CurrencyCodeSchema.nullable().default(null),
  }).optional(),
  // Loose on purpose: an expectation the parser can never produce must fail, not crash.
  expect: z.record(z.string(), z.unknown()),
});
export type EvalCase = z.infer<typeof EvalCaseSchema>;

export interface CaseResult {
  readonly id: string;
  readonly prompt: string;
  readonly passed: boolean;
  readonly expected: Readonly<Record<string, unknown>>;
  /** The parser's answer, or null when the line could not be read. */
  readonly got: ParsedQuery | null;
  /** Expected keys whose values differ (or "line" for an unreadable line). */
  readonly mismatches: readonly string[];
  readonly error?: string;
}

export interface EvalReport {
  readonly results: readonly CaseResult[];
  readonly passed: number;
  readonly total: number;
}

export type Parser = (
  prompt: string,
  options: { now: Date; timeZone?: string; previous?: ParsedQuery },
) => ParsedQuery;

/** Parses every non-blank line, runs the parser and scores the expected keys. */
export function evaluateCases(fileText: string, parse: Parser = parsePrompt): EvalReport {
  const results = fileText.split(/\r?\n/)
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, number }) => evaluateLine(line, number, parse));
  return {
    results,
    passed: results.filter((result) => result.passed).length,
    total: results.length,
  };
}

function evaluateLine(line: string, lineNumber: number, parse: Parser): CaseResult {
  const parsed = parseCase(line);
  if (!parsed.success) {
    return {
      id: `line ${lineNumber}`,
      prompt: "",
      passed: false,
      expected: {},
      got: null,
      mismatches: ["line"],
      error: parsed.error,
    };
  }
  const testCase = parsed.data;
  const got = parse(testCase.prompt, {
    now: new Date(testCase.now ?? DEFAULT_EVAL_NOW),
    timeZone: testCase.tz,
    previous: testCase.previous,
  });
  const mismatches = scoreCase(testCase.expect, got);
  return {
    id: testCase.id,
    prompt: testCase.prompt,
    passed: mismatches.length === 0,
    expected: testCase.expect,
    got,
    mismatches,
  };
}

function parseCase(
  line: string,
): { success: true; data: EvalCase } | { success: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { success: false, error: `invalid JSON: ${(error as Error).message}` };
  }
  const result = EvalCaseSchema.safeParse(json);
  if (result.success) return { success: true, data: result.data };
  return { success: false, error: z.prettifyError(result.error) };
}

/** What a scored key is about, so that misses group themselves (`--by-kind`). */
export function kindOfKey(key: string): string {
  if (key === "date_range" || key === "compare_to") return "dates";
  if (key === "order" || key === "limit") return "ranking";
  return key;
}

export interface KindTally {
  readonly kind: string;
  /** Cases that expect a key of this kind. */
  readonly scored: number;
  /** Ids of the cases that got a key of this kind wrong. */
  readonly missed: readonly string[];
}

/** Per kind of key: how many cases scored it and which got it wrong, most misses first. */
export function tallyByKind(report: EvalReport): KindTally[] {
  const tallies = new Map<string, { scored: Set<string>; missed: Set<string> }>();
  const tally = (kind: string) => {
    let entry = tallies.get(kind);
    if (!entry) tallies.set(kind, entry = { scored: new Set(), missed: new Set() });
    return entry;
  };
  for (const result of report.results) {
    for (const key of Object.keys(result.expected)) tally(kindOfKey(key)).scored.add(result.id);
    for (const key of result.mismatches) tally(kindOfKey(key)).missed.add(result.id);
  }
  return [...tallies].map(([kind, { scored, missed }]) => ({
    kind,
    scored: scored.size,
    missed: [...missed],
  })).sort((a, b) => b.missed.length - a.missed.length || a.kind.localeCompare(b.kind));
}

/** The expected keys whose values the parsed query does not match. */
export function scoreCase(
  expected: Readonly<Record<string, unknown>>,
  got: ParsedQuery,
): string[] {
  const actual = got as unknown as Record<string, unknown>;
  return Object.keys(expected).filter((key) => !valuesMatch(key, expected[key], actual[key]));
}

function valuesMatch(key: string, expected: unknown, actual: unknown): boolean {
  if (key === "metrics" || key === "platforms") return sameSet(expected, actual);
  if (key === "campaign") return sameCampaign(expected, actual);
  return stableJson(expected) === stableJson(actual);
}

function sameSet(expected: unknown, actual: unknown): boolean {
  if (!Array.isArray(expected) || !Array.isArray(actual)) {
    return stableJson(expected) === stableJson(actual);
  }
  const left = new Set(expected.map(stableJson));
  const right = new Set(actual.map(stableJson));
  return left.size === right.size && [...left].every((value) => right.has(value));
}

function sameCampaign(expected: unknown, actual: unknown): boolean {
  if (!isRecord(expected) || !isRecord(actual)) return stableJson(expected) === stableJson(actual);
  const normalize = (campaign: Record<string, unknown>) =>
    typeof campaign.value === "string"
      ? { ...campaign, value: normalizeCampaignValue(campaign.value) }
      : campaign;
  return stableJson(normalize(expected)) === stableJson(normalize(actual));
}

/** Lower case, no quotes or punctuation, single spaces: "“Spring Sale!”" → "spring sale". */
export function normalizeCampaignValue(value: string): string {
  return value.toLowerCase().replace(/[\p{P}\p{S}]+/gu, " ").replace(/\s+/g, " ").trim();
}

/** JSON with sorted object keys, so key order never decides equality. */
function stableJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_, inner) =>
      isRecord(inner)
        ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : inner,
  ) ?? "undefined";
}
